// Server-Sent Events framing (WHATWG HTML 9.2, text/event-stream), without I/O.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "pushcgi/error.hpp"
#include "pushcgi/header.hpp"

namespace pushcgi {

struct Event {
  Event(std::string_view event_data = {}, std::string_view event_type = {})  // NOLINT
      : data(event_data), type(event_type) {}

  std::string_view data;                           // any text; one "data:" line per line
  std::string_view type;                           // "event:" field; empty: a plain message
  std::optional<std::string_view> id;              // "id:" field; comes back as Last-Event-ID
  std::optional<std::chrono::milliseconds> retry;  // "retry:" field: reconnection delay
};

// Appends one event, ended by the blank line that dispatches it:
//   "event: T\n" "id: I\n" "retry: MS\n" "data: LINE\n"... "\n"
// data is split on CRLF, LF and CR, the three line ends the parser knows; an empty data
// gives one empty "data: " line (an empty message). Error::bad_event_field if type or id
// holds CR, LF or NUL (they would end the field early); nothing is appended then.
Error format_event(const Event& event, std::string& out);

// ": TEXT\n" for each line of text: a comment the browser ignores, good as a heartbeat.
std::string format_comment(std::string_view text);

// 200, Content-Type: text/event-stream and the stream headers.
ResponseHead event_stream_head();

}  // namespace pushcgi
