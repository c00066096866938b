#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>

#include "backoff.hpp"
#include "batched_splitter.hpp"
#include "kept_child.hpp"
#include "pushcgi/jpeg.hpp"
#include "pushcgi/log.hpp"
#include "sources.hpp"

namespace pushcgi::detail {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kStopGrace{1000};  // SIGTERM to SIGKILL on a stop
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

// The value of NAME=VALUE in env; "" if absent.
std::string value_in(const std::vector<std::string>& env, const std::string& name) {
  for (const std::string& entry : env) {
    if (entry.rfind(name + "=", 0) == 0) return entry.substr(name.size() + 1);
  }
  return {};
}

// A program named without a '/' is looked up in the child's PATH, here, before fork: the
// child may only make async-signal-safe calls until it execs.
std::string resolve(const std::string& program, const std::string& dirs) {
  if (program.find('/') != std::string::npos) return program;
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
  return "ended";
}

}  // namespace

std::vector<std::string> exec_environment(const std::vector<std::string>& passed) {
  std::vector<std::string> env;
  const auto set = [&env](const std::string& entry) {
    const std::string prefix = entry.substr(0, entry.find('=') + 1);  // "NAME="
    env.erase(std::remove_if(env.begin(), env.end(),
                             [&](const std::string& old) { return old.rfind(prefix, 0) == 0; }),
              env.end());
    env.push_back(entry);
  };
  const char* path = std::getenv("PATH");
  set(std::string("PATH=") + (path != nullptr ? path : kDefaultPath));
  for (const char* name : {"HOME", "LANG"}) {
    if (const char* value = std::getenv(name)) set(std::string(name) + "=" + value);
  }
  for (const std::string& entry : passed) {
    if (entry.find('=') != std::string::npos) {
      set(entry);
    } else if (const char* value = std::getenv(entry.c_str())) {
      set(entry + "=" + value);
    }
  }
  return env;
}

ExecSource::ExecSource(std::vector<std::string> argv, const SourceOptions& options)
    : ThreadedSource(options),
      argv_(std::move(argv)),
      env_(exec_environment(options.environment)),
      options_(options) {}

// The program's name only: its arguments may hold a camera's password or a URL's user-info
// (rtsp://user:pass@camera/), and describe() goes to /state and the log.
std::string ExecSource::default_description() const {
  const std::string& program = argv_[0];
  return "exec: " + program.substr(program.rfind('/') + 1);
}

void ExecSource::run() {
  Backoff backoff;
  for (;;) {
    const ChildEnd end = run_child();
    pollfd stopping{stop_fd(), POLLIN, 0};
    if (poll(&stopping, 1, 0) > 0) return;
    // A child that keeps failing at once is restarted ever more slowly.
    const std::chrono::seconds delay = backoff.next(end.healthy);
    // One update of the incident and the status, so that a reader never sees half of it.
    record_failure(end.reason, end.reason + "; restart in " + std::to_string(delay.count()) + " s");
    if (!wait_until(Clock::now() + delay)) return;
  }
}

ExecSource::ChildEnd ExecSource::run_child() {
  Parsed<KeptChild> started =
      KeptChild::start({resolve(argv_[0], value_in(env_, "PATH")), argv_, env_, kStopGrace});
  if (!started) {
    const std::string what = "cannot start the child: " + started.error();
    log(LogLevel::warning, log_name() + ": " + what);
    return {false, what};
  }
  KeptChild& child = started.value();
  set_status({});
  log(LogLevel::info,
      "started " + log_name() + " (keeper pid " + std::to_string(child.pid()) + ")");
  const auto started_at = Clock::now();
  const Reading reading = read_frames(child.output());
  if (reading.end == Reading::End::stopping) {
    child.stop(true);
    child.wait(kStopGrace + std::chrono::seconds(5));
    log(LogLevel::info, "stopped " + log_name());
    return {true, "stopped"};
  }
  std::optional<int> status;
  // A child that closed its output is ending; one that lives on after it, or is silent, is
  // killed (with whatever it started).
  if (reading.end == Reading::End::closed) status = child.wait(std::chrono::seconds(1));
  if (!status) {
    child.stop(false);
    status = child.wait(std::chrono::seconds(5));
  }
  std::string what = status ? "child " + exit_text(*status) : "child did not end; killed";
  if (reading.end == Reading::End::silent) {
    const std::string seconds = std::to_string(options_.source_timeout.count()) + " s";
    what = reading.bytes_since_frame == 0
               ? "child wrote nothing for " + seconds + "; killed"
               : "child wrote " + std::to_string(reading.bytes_since_frame) +
                     " bytes but no whole JPEG in " + seconds + "; killed";
  }
  log(LogLevel::warning, log_name() + ": " + what);
  return {Clock::now() - started_at > Backoff::kHealthyRun, what};
}

// The watchdog: a child gets source_timeout for each whole frame, the first included.
ExecSource::Reading ExecSource::read_frames(int output) {
  Reading reading;
  auto last_frame = Clock::now();
  BatchedSplitter splitter(
      options_.max_frame_bytes,
      [&](std::string frame) {
        last_frame = Clock::now();
        reading.bytes_since_frame = 0;
        emit(std::move(frame));
      },
      [this](std::string_view reason, std::uint64_t count) { drop(reason, count); });
  char buffer[65536];
  for (;;) {
    const auto left = last_frame + options_.source_timeout - Clock::now();
    if (left <= Clock::duration::zero()) {
      reading.end = Reading::End::silent;
      break;
    }
    const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd fds[2] = {{output, POLLIN, 0}, {stop_fd(), POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(left_ms));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (fds[1].revents & POLLIN) {
      reading.end = Reading::End::stopping;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      const ssize_t n = ::read(output, buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the child closed its output
      reading.bytes_since_frame += static_cast<std::uint64_t>(n);
      splitter.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    }
  }
  splitter.finish();
  return reading;
}

}  // namespace pushcgi::detail
