#include "pushcgi/wait.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <ctime>

namespace pushcgi {

std::string_view to_string(Wake wake) {
  switch (wake) {
    case Wake::deadline:
      return "deadline";
    case Wake::viewer_left:
      return "viewer left";
    case Wake::shutdown:
      return "shutdown";
    case Wake::notified:
      return "notified";
    case Wake::time_limit:
      return "time limit";
  }
  return "unknown";
}

bool PollWaiter::input_means_gone() const {
  char byte;
  const ssize_t n = recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return false;
  return true;  // EOF, an error, or bytes after the request's end (an abort)
}

Wake PollWaiter::wait_until(std::chrono::steady_clock::time_point deadline, int notify_fd) {
  const short events = watch_input_ ? static_cast<short>(POLLIN | POLLRDHUP) : short{0};
  for (;;) {
    pollfd fds[3] = {{fd_, events, 0}, {stop_fd_, POLLIN, 0}, {notify_fd, POLLIN, 0}};
    const auto now = std::chrono::steady_clock::now();
    const auto left = deadline > now ? deadline - now : std::chrono::steady_clock::duration{};
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec timeout{static_cast<time_t>(ns / 1000000000),
                           static_cast<long>(ns % 1000000000)};
    // A negative descriptor is ignored by poll.
    const int ready = ppoll(fds, 3, &timeout, nullptr);
    if (ready < 0) {
      if (errno == EINTR) continue;
      return Wake::viewer_left;  // cannot watch the connection: treat it as gone
    }
    if (fds[0].revents & (POLLHUP | POLLERR | POLLRDHUP | POLLNVAL)) return Wake::viewer_left;
    if ((fds[0].revents & POLLIN) && input_means_gone()) return Wake::viewer_left;
    if (fds[1].revents & POLLIN) return Wake::shutdown;
    if (fds[2].revents & POLLIN) return Wake::notified;
    if (ready == 0 && std::chrono::steady_clock::now() >= deadline) return Wake::deadline;
  }
}

}  // namespace pushcgi
