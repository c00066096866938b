// A handler's way to answer: the head once, then the body in one go (send), part by part
// from the handler (a blocking stream: send_head, write and wait_until), or handed to an
// event loop that writes it for as long as the viewer stays (pump: the way to serve many).
#pragma once

#include <chrono>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/header.hpp"
#include "pushcgi/pump.hpp"
#include "pushcgi/sink.hpp"
#include "pushcgi/stream_metrics.hpp"
#include "pushcgi/stream_slots.hpp"
#include "pushcgi/wait.hpp"

namespace pushcgi {

// How a response is written (CGI or nph- head, HEAD or GET), for a whole reply that an
// event loop sends later (Response::reply_later): a pump's render uses it to make one.
class ReplyFormat {
 public:
  ReplyFormat(HeadStyle style, std::string protocol, bool head_only)
      : style_(style), protocol_(std::move(protocol)), head_only_(head_only) {}

  // parts: the head with Content-Length (in parts.text), then the body unless the request
  // was HEAD; the caller keeps the body's memory in parts.keep. False if the head has a
  // refused header (logged).
  bool render(ResponseHead head, std::string_view body, Parts& parts) const;
  // A whole one-line text/plain error, as Response::send_error sends it.
  std::string error(int status, std::string_view reason,
                    const std::vector<Header>& extra_headers = {}) const;

 private:
  HeadStyle style_;
  std::string protocol_;
  bool head_only_;
};

// The head of a one-line text/plain error.
ResponseHead error_head(int status, const std::vector<Header>& extra_headers = {});

class Response {
 public:
  // protocol is SERVER_PROTOCOL, used in nph heads. With head_only (a HEAD request) the
  // head is sent and every later write returns closed, so a stream ends at once.
  Response(Sink& sink, Waiter& waiter, HeadStyle style = HeadStyle::cgi,
           std::string protocol = "HTTP/1.1", bool head_only = false);
  ~Response();
  Response(const Response&) = delete;
  Response& operator=(const Response&) = delete;

  // The program's streams (set by the runtime): a stream takes one of slots while it runs,
  // and one that would exceed the limits gets a 503 with Retry-After instead of its head.
  // Without, streams are not counted. max_duration: a stream's time limit (0: none).
  void use_slots(StreamSlots* slots, std::chrono::seconds max_duration) {
    slots_ = slots;
    max_duration_ = max_duration;
  }
  // The route whose streams this response counts in (set by the router; see
  // stream_metrics.hpp). A stream counts as started with its head, or as refused.
  void count_in(RouteStreams* route) { route_ = route; }
  // A blocking stream's end, when its handler returns (the router says why).
  void count_end(StreamEnd why) { tally_.end(why); }

  // Sends the head (once). A head with a refused header (head.error()) is never sent: a 500
  // goes out instead and the result is refused. A streaming head starts a blocking stream,
  // which holds this worker: beyond the workers that streams may hold, a 503 with
  // Retry-After goes out instead and the result is refused.
  WriteResult send_head(const ResponseHead& head);

  // Starts a stream that an event loop runs (see pump.hpp): sends the head and the first
  // bytes (a preamble), and once the handler returns, the runtime hands the connection to a
  // loop that sends what the pump says until the viewer leaves, the stream reaches its
  // time limit, or the program stops. The worker is free at once. False if the stream does
  // not start: a 503 at the stream limit, a HEAD request (the head alone went out), or a
  // viewer already gone.
  bool pump(const ResponseHead& head, std::string_view first, Pump pump);

  // A whole reply made from a value that may not be there yet (a page or a snapshot while
  // the producer starts): an event loop waits for the pump's first value due, sends what
  // its render gives (with reply_format(); see Pump::once), or the pump's `otherwise`
  // after its timeout, and ends the request. The worker is free meanwhile. False if a reply
  // was already sent or too many wait (503).
  bool reply_later(Pump pump);
  ReplyFormat reply_format() const { return ReplyFormat(style_, protocol_, head_only_); }

  // For the runtime: the stream to hand to an event loop once the handler has returned.
  struct Pumped {
    std::unique_ptr<Pump> pump;
    StreamSlots::Slot slot;
    StreamTally tally;
    std::uint64_t bytes_sent = 0;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::duration max_duration{};
  };
  std::optional<Pumped> take_pumped();
  bool pumped() const { return pump_ != nullptr; }

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

  // The wait between parts of a blocking stream: returns on the deadline, when the viewer
  // leaves, on shutdown, or when a stream reaches its time limit, whichever comes first.
  // With notify_fd, also returns Wake::notified when it becomes readable.
  Wake wait_until(std::chrono::steady_clock::time_point deadline, int notify_fd = -1);
  // Waits as wait_until does, and returns Wake::notified once the hub subscription has a
  // value for this viewer (Hub<T>::Subscription::ready()).
  template <typename Subscription>
  Wake wait_for(const Subscription& subscription, std::chrono::steady_clock::time_point deadline) {
    for (;;) {
      // A publish between the check and the wait leaves the descriptor readable: never
      // missed.
      subscription.clear_notification();
      if (time_is_up()) return Wake::time_limit;
      if (subscription.ready()) return Wake::notified;
      const Wake wake = wait_until(deadline, subscription.notify_fd());
      if (wake != Wake::notified) return wake;
    }
  }
  // True once a stream has run for its max_duration; last_wake() is then time_limit. For
  // waits that may return without calling wait_until (a value already there).
  bool time_is_up();
  Wake wait_for(std::chrono::steady_clock::duration duration) {
    return wait_until(std::chrono::steady_clock::now() + duration);
  }

  bool head_sent() const { return head_sent_; }
  int status() const { return status_; }
  bool streaming() const { return streaming_; }
  // ok while the viewer can still be written to.
  WriteResult state() const { return state_; }
  Wake last_wake() const { return last_wake_; }
  std::uint64_t bytes_sent() const { return bytes_sent_; }
  std::chrono::steady_clock::time_point started() const { return started_; }

 private:
  bool take_slot(StreamSlots::Kind kind);
  WriteResult put(const std::string_view* pieces, std::size_t count);

  Sink& sink_;
  Waiter& waiter_;
  HeadStyle style_;
  std::string protocol_;
  bool head_only_;
  StreamSlots* slots_ = nullptr;
  std::chrono::seconds max_duration_{0};
  StreamSlots::Slot slot_;
  RouteStreams* route_ = nullptr;
  StreamTally tally_;
  std::unique_ptr<Pump> pump_;
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
