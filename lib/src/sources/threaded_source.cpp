#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <ctime>
#include <system_error>
#include <utility>

#include "base/cpu_clock.hpp"
#include "pushcgi/sources/source.hpp"

namespace pushcgi {

void SourceIncidents::add(const std::string& what) {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &local);
  count += 1;
  last = std::string(stamp) + ": " + what;
}

namespace detail {

ThreadedSource::ThreadedSource(const SourceOptions& options)
    : label_(options.label),
      camera_(options.camera),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (stop_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
}

std::string ThreadedSource::describe() const {
  return label_.empty() ? default_description() : label_;
}

std::string ThreadedSource::log_name() const {
  return camera_.empty() ? describe() : "camera " + camera_ + ": " + describe();
}

ThreadedSource::~ThreadedSource() {
  ::close(stop_fd_);
}

void ThreadedSource::start(Emit emit, Drop drop) {
  if (thread_.joinable()) return;
  std::uint64_t count;
  [[maybe_unused]] const ssize_t n = ::read(stop_fd_, &count, sizeof count);  // re-arm
  emit_ = std::move(emit);
  drop_ = std::move(drop);
  thread_ = std::thread([this] {
    {
      const std::lock_guard<std::mutex> lock(cpu_mutex_);
      cpu_running_ = pthread_getcpuclockid(pthread_self(), &cpu_clock_) == 0;
    }
    run();
    // Read under the lock: a reader between this reading and cpu_running_ = false would
    // see a later live figure than the one added, and the counter would go back.
    const std::lock_guard<std::mutex> lock(cpu_mutex_);
    cpu_before_ +=
        detail::cpu_clock_time(CLOCK_THREAD_CPUTIME_ID).value_or(std::chrono::nanoseconds(0));
    cpu_running_ = false;
  });
}

std::optional<std::chrono::nanoseconds> ThreadedSource::cpu_time() const {
  const std::lock_guard<std::mutex> lock(cpu_mutex_);
  // The thread is alive while cpu_running_: it clears it, under this lock, as it ends.
  if (!cpu_running_) return cpu_before_;
  return cpu_before_ + detail::cpu_clock_time(cpu_clock_).value_or(std::chrono::nanoseconds(0));
}

void ThreadedSource::stop() {
  if (!thread_.joinable()) return;
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
}

std::string ThreadedSource::status() const {
  const std::lock_guard<std::mutex> lock(status_mutex_);
  return status_;
}

void ThreadedSource::set_status(std::string status) {
  const std::lock_guard<std::mutex> lock(status_mutex_);
  status_ = std::move(status);
}

void ThreadedSource::report_problem(const std::string& problem) {
  problem_log_.log(LogLevel::warning, log_name() + ": " + problem);
  set_status(problem);
}

SourceIncidents ThreadedSource::incidents() const {
  const std::lock_guard<std::mutex> lock(status_mutex_);
  return incidents_;
}

void ThreadedSource::record_failure(const std::string& what, std::string status) {
  const std::lock_guard<std::mutex> lock(status_mutex_);
  status_ = std::move(status);
  incidents_.add(what);
}

bool ThreadedSource::wait_until(std::chrono::steady_clock::time_point deadline) const {
  for (;;) {
    const auto now = std::chrono::steady_clock::now();
    const auto left = deadline > now ? deadline - now : std::chrono::steady_clock::duration{};
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec timeout{static_cast<time_t>(ns / 1000000000),
                           static_cast<long>(ns % 1000000000)};
    pollfd fd{stop_fd_, POLLIN, 0};
    const int ready = ppoll(&fd, 1, &timeout, nullptr);
    if (ready > 0) return false;
    if (ready == 0 || std::chrono::steady_clock::now() >= deadline) return true;
  }
}

}  // namespace detail
}  // namespace pushcgi
