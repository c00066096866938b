#include "runtime/fcgi_shutdown.hpp"

#include <fcgiapp.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <string>
#include <thread>

#include "pushcgi/log.hpp"
#include "runtime/stop_signal.hpp"

namespace pushcgi::detail {

namespace {

using Clock = std::chrono::steady_clock;

bool all_done(const std::vector<std::unique_ptr<FcgiWorker>>& workers) {
  return std::all_of(workers.begin(), workers.end(),
                     [](const auto& worker) { return worker->done.load(); });
}

// An inherited socket may be shared with other processes (spawn-fcgi -F, systemd), so it
// is not shut down: accept() is interrupted in each thread instead, again and again in case
// a thread was just about to enter it.
void kick_accepts(const std::vector<std::unique_ptr<FcgiWorker>>& workers) {
  for (const auto& worker : workers) {
    if (worker->accepting && !worker->done) pthread_kill(worker->thread, kick_signal());
  }
}

// A thread blocked writing to a viewer that stopped reading would never see the stop.
void cut_off_requests(const std::vector<std::unique_ptr<FcgiWorker>>& workers) {
  unsigned cut = 0;
  for (const auto& worker : workers) {
    const std::lock_guard<std::mutex> lock(worker->mutex);
    if (worker->active_fd >= 0 && shutdown(worker->active_fd, SHUT_RDWR) == 0) ++cut;
  }
  if (cut > 0)
    log(LogLevel::warning,
        "cut off " + std::to_string(cut) + " requests still running after 500 ms");
}

}  // namespace

ServingConnection::ServingConnection(FcgiWorker& worker, int fd) : worker_(worker) {
  const std::lock_guard<std::mutex> lock(worker_.mutex);
  worker_.active_fd = fd;
}

ServingConnection::~ServingConnection() {
  const std::lock_guard<std::mutex> lock(worker_.mutex);
  worker_.active_fd = -1;
}

void stop_workers(std::vector<std::unique_ptr<FcgiWorker>>& workers, int listen_fd,
                  bool own_socket) {
  FCGX_ShutdownPending();
  if (own_socket) shutdown(listen_fd, SHUT_RDWR);  // every blocked accept() returns
  const auto cut_off_at = Clock::now() + std::chrono::milliseconds(500);
  const auto give_up_at = Clock::now() + std::chrono::seconds(3);
  bool cut_off = false;
  while (!all_done(workers)) {
    if (!own_socket) kick_accepts(workers);
    if (!cut_off && Clock::now() >= cut_off_at) {
      cut_off = true;
      cut_off_requests(workers);
    }
    // A handler that is stuck (a bug) must not keep the program from stopping.
    if (Clock::now() >= give_up_at) {
      log(LogLevel::error, "threads still busy 3 s after the stop; exiting without them");
      std::_Exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& worker : workers) pthread_join(worker->thread, nullptr);
}

}  // namespace pushcgi::detail
