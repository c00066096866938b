// A handler's way to answer: the head once, then the body (in one go, or part by part for
// a stream), and the wait between parts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/header.hpp"
#include "pushcgi/sink.hpp"
#include "pushcgi/wait.hpp"

namespace pushcgi {

// What a program allows its streams (Server options --max-streams, --max-stream-seconds).
struct StreamLimits {
  std::atomic<unsigned>* open_streams = nullptr;  // counts the responses streaming now
  unsigned max_streams = 0;                       // 0: no limit
  std::chrono::seconds max_duration{0};           // 0: none
};

class Response {
 public:
  // protocol is SERVER_PROTOCOL, used in nph heads. With head_only (a HEAD request) the
  // head is sent and every later write returns closed, so a stream ends at once.
  Response(Sink& sink, Waiter& waiter, HeadStyle style = HeadStyle::cgi,
           std::string protocol = "HTTP/1.1", bool head_only = false);
  ~Response();
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;

  // Counts this response in *limits.open_streams while it streams (from a streaming head to
  // the end). With max_streams, a streaming head that would make more than that many
  // streams is not sent: a 503 with Retry-After goes out instead and send_head returns
  // refused. With max_duration, the waits of a stream return Wake::time_limit once it has
  // streamed that long.
  void limit_streams(const StreamLimits& limits) { limits_ = limits; }

  // Sends the head (once). A head with a refused header (head.error()) is never sent: a 500
  // goes out instead and the result is refused.
  WriteResult send_head(const ResponseHead& head);

  // Body bytes after send_head, pushed out to the viewer at once. Refused before a head or
  // after a complete response.
  WriteResult write(const std::string_view* pieces, std::size_t count);
  WriteResult write(std::initializer_list<std::string_view> pieces) {
    return write(pieces.begin(), pieces.size());
  }

  // A complete response: the head with Content-Length, then the body.
  WriteResult send(ResponseHead head, std::string_view body);
  WriteResult send(int status, std::string_view content_type, std::string_view body);
  // A one-line text/plain reason ("interval: expected ...").
  WriteResult send_error(int status, std::string_view reason,
                         const std::vector<Header>& extra_headers = {});

  // The wait between parts: returns on the deadline, when the viewer leaves, on shutdown,
  // or when a stream reaches its time limit, whichever comes first.
  // With notify_fd, also returns Wake::notified when it becomes readable (see Hub).
  Wake wait_until(std::chrono::steady_clock::time_point deadline, int notify_fd = -1);
  // True once a stream has run for its max_duration; last_wake() is then time_limit. For
  // waits that may return without calling wait_until (a value already there).
  bool time_is_up();
  Wake wait_for(std::chrono::steady_clock::duration duration) {
    return wait_until(std::chrono::steady_clock::now() + duration);
  }

  // What the viewer's side has not read yet (see Sink::unsent_bytes).
  std::size_t unsent_bytes() const { return sink_.unsent_bytes(); }

  bool head_sent() const { return head_sent_; }
  int status() const { return status_; }
  bool streaming() const { return streaming_; }
  // ok while the viewer can still be written to.
  WriteResult state() const { return state_; }
  Wake last_wake() const { return last_wake_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  bool take_stream_slot();
  WriteResult put(const std::string_view* pieces, std::size_t count);

  Sink& sink_;
  Waiter& waiter_;
  HeadStyle style_;
  std::string protocol_;
  bool head_only_;
  StreamLimits limits_;
  bool head_sent_ = false;
  bool complete_ = false;  // a send() response: nothing may follow
  bool streaming_ = false;
  int status_ = 0;
  WriteResult state_ = WriteResult::ok;
  Wake last_wake_ = Wake::deadline;
  std::uint64_t bytes_sent_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point stream_ends_ = std::chrono::steady_clock::time_point::max();
};

}  // namespace pushcgi
