// A text/event-stream response, read by the browser's EventSource.
#pragma once

#include <chrono>
#include <optional>
#include <string_view>

#include "pushcgi/pump.hpp"
#include "pushcgi/request.hpp"
#include "pushcgi/response.hpp"
#include "pushcgi/sse.hpp"

namespace pushcgi {

class EventStream {
 public:
  EventStream(const Request& request, Response& response);

  // Sends the head and, if given, a "retry:" field (the browser's reconnection delay;
  // without it Chromium waits 3 s and Firefox 5 s). False if the viewer is gone or the
  // request was HEAD.
  bool start(std::optional<std::chrono::milliseconds> retry = std::nullopt);

  // Hands the stream to an event loop (Response::pump), the way to serve many viewers: sends
  // the head and the retry field, and from then on the pump's render gives each value's
  // bytes: whole events (format_event), made once per value and kept with it, not once per
  // viewer. Its idle text is typically a comment (format_comment("heartbeat")). False if
  // the stream does not start (a viewer gone, HEAD, 503 at the stream limit).
  bool pump(Pump pump, std::optional<std::chrono::milliseconds> retry = std::nullopt);

  // One event; false if it was refused (CR or LF in its type or id: logged) or the viewer
  // is gone.
  bool send(const Event& event);

  // A comment line, ignored by the browser: a heartbeat that keeps proxies from timing out
  // and shows a dead connection.
  bool comment(std::string_view text);

  // The id of the last event this browser saw, sent back when it reconnects.
  std::optional<std::string_view> last_event_id() const { return request_.header("Last-Event-ID"); }

  bool open() const { return started_ && response_.state() == WriteResult::ok; }

 private:
  bool write(std::string_view text);

  const Request& request_;
  Response& response_;
  std::string buffer_;
  bool started_ = false;
};

}  // namespace pushcgi
