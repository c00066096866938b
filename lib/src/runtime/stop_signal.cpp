#include "stop_signal.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdint>

namespace pushcgi::detail {

namespace {

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGUSR1};

// Read by every thread and set in a signal handler: lock-free atomics are safe in both.
std::atomic<bool> g_stop_requested{false};
std::atomic<int> g_stop_fd{-1};
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free);

void wake() {
  const std::uint64_t one = 1;
  // eventfd writes are async-signal-safe; a full counter (never reached) only means awake.
  [[maybe_unused]] const ssize_t n = ::write(g_stop_fd.load(), &one, sizeof one);
}

extern "C" void on_stop_signal(int) {
  const int saved = errno;
  g_stop_requested = true;
  wake();
  errno = saved;
}

extern "C" void on_kick_signal(int) {}

}  // namespace

int install_stop_signal() {
  if (g_stop_fd.load() >= 0) return g_stop_fd.load();
  g_stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

  struct sigaction action {};
  sigemptyset(&action.sa_mask);
  action.sa_handler = on_stop_signal;
  action.sa_flags = SA_RESTART;  // blocked writes resume; waits poll the stop descriptor
  for (int signal : kStopSignals) sigaction(signal, &action, nullptr);

  action.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &action, nullptr);

  action.sa_handler = on_kick_signal;
  action.sa_flags = 0;  // no SA_RESTART: accept() returns EINTR
  sigaction(kick_signal(), &action, nullptr);
  return g_stop_fd.load();
}

int stop_fd() {
  return g_stop_fd.load();
}
bool stop_requested() {
  return g_stop_requested.load();
}

void request_stop() {
  g_stop_requested = true;
  if (g_stop_fd.load() >= 0) wake();
}

int kick_signal() {
  return SIGUSR2;
}

void block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : kStopSignals) sigaddset(&set, signal);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace pushcgi::detail
