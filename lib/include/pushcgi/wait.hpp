// The one wait a stream makes between parts: it returns on its deadline, when the viewer's
// connection closes, or when the program shuts down, whichever comes first.
#pragma once

#include <chrono>
#include <string_view>

namespace pushcgi {

enum class Wake {
  deadline,     // the time has come: send the next part
  viewer_left,  // the connection closed: end this stream
  shutdown,     // the program is stopping: end the stream cleanly
  notified,     // the notify descriptor became readable (a Hub has a new value)
  time_limit,   // the stream has run as long as it may (--max-stream-seconds): end it cleanly
};

std::string_view to_string(Wake wake);

class Waiter {
 public:
  virtual ~Waiter() = default;
  // notify_fd (-1: none) is watched too; it is not read, so it stays readable until the
  // caller drains it.
  virtual Wake wait_until(std::chrono::steady_clock::time_point deadline, int notify_fd) = 0;
  Wake wait_until(std::chrono::steady_clock::time_point deadline) {
    return wait_until(deadline, -1);
  }
};

// poll(2) on the viewer's connection and on a stop descriptor (readable once the program
// stops; -1 for none).
class PollWaiter : public Waiter {
 public:
  // A FastCGI connection whose request body was read to its end: from then on the web
  // server sends nothing, so POLLRDHUP, POLLHUP, or any readable byte (EOF, or an
  // FCGI_ABORT_REQUEST) means the viewer is gone. nginx closes it within milliseconds of the
  // browser leaving, also while the stream is idle.
  static PollWaiter for_connection(int fd, int stop_fd) { return PollWaiter(fd, true, stop_fd); }

  // An output that the peer only reads (CGI standard output: a pipe or a socket that is
  // also standard input): only POLLHUP or POLLERR mean the reader is gone.
  static PollWaiter for_output(int fd, int stop_fd) { return PollWaiter(fd, false, stop_fd); }

  using Waiter::wait_until;
  Wake wait_until(std::chrono::steady_clock::time_point deadline, int notify_fd) override;

 private:
  PollWaiter(int fd, bool watch_input, int stop_fd)
      : fd_(fd), watch_input_(watch_input), stop_fd_(stop_fd) {}

  bool input_means_gone() const;

  int fd_;
  bool watch_input_;
  int stop_fd_;
};

}  // namespace pushcgi
