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

class Response {
 public:
  // protocol is SERVER_PROTOCOL, used in nph heads. With head_only (a HEAD request) the
  // head is sent and every later write returns closed, so a stream ends at once.
  Response(Sink& sink, Waiter& waiter, HeadStyle style = HeadStyle::cgi,
           std::string protocol = "HTTP/1.1", bool head_only = false);
  ~Response();
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;

  // Counts this response in *counter while it streams (from a streaming head to the end).
  // With a limit, a streaming head that would make more than `limit` streams is not sent:
  // a 503 with Retry-After goes out instead and send_head returns refused.
  void count_streams_in(std::atomic<unsigned>* counter, unsigned limit = 0) {
    stream_counter_ = counter;
    stream_limit_ = limit;
  }

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

  // The wait between parts: returns on the deadline, when the viewer leaves, or on
  // shutdown, whichever comes first.
  // With notify_fd, also returns Wake::notified when it becomes readable (see Hub).
  Wake wait_until(std::chrono::steady_clock::time_point deadline, int notify_fd = -1);
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
  std::atomic<unsigned>* stream_counter_ = nullptr;
  unsigned stream_limit_ = 0;  // 0: no limit
  bool head_sent_ = false;
  bool complete_ = false;  // a send() response: nothing may follow
  bool streaming_ = false;
  int status_ = 0;
  WriteResult state_ = WriteResult::ok;
  Wake last_wake_ = Wake::deadline;
  std::uint64_t bytes_sent_ = 0;
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

}  // namespace pushcgi
