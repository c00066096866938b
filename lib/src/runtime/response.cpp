#include "pushcgi/response.hpp"

#include <algorithm>

#include "pushcgi/log.hpp"

namespace pushcgi {

Response::Response(Sink& sink, Waiter& waiter, HeadStyle style, std::string protocol,
                   bool head_only)
    : sink_(sink),
      waiter_(waiter),
      style_(style),
      protocol_(std::move(protocol)),
      head_only_(head_only) {}

Response::~Response() {
  if (streaming_ && limits_.open_streams != nullptr) limits_.open_streams->fetch_sub(1);
}

WriteResult Response::put(const std::string_view* pieces, std::size_t count) {
  if (state_ != WriteResult::ok) return state_;
  state_ = sink_.write(pieces, count);
  if (state_ == WriteResult::ok) {
    for (std::size_t i = 0; i < count; ++i) bytes_sent_ += pieces[i].size();
  }
  return state_;
}

// Taken before the head goes out, so that two requests racing for the last slot cannot
// both get it.
bool Response::take_stream_slot() {
  std::atomic<unsigned>* counter = limits_.open_streams;
  if (counter == nullptr) return true;
  unsigned open = counter->load();
  do {
    if (limits_.max_streams > 0 && open >= limits_.max_streams) return false;
  } while (!counter->compare_exchange_weak(open, open + 1));
  return true;
}

WriteResult Response::send_head(const ResponseHead& head) {
  if (head_sent_) return WriteResult::refused;
  if (head.error() != Error::none) {
    log(LogLevel::error,
        "refused to send a response head: " + std::string(to_string(head.error())));
    send_error(500, "internal error: the program made an invalid header");
    return WriteResult::refused;
  }
  const bool stream = head.streaming() && !head_only_;
  if (stream && !take_stream_slot()) {
    send_error(503, "too many viewers (" + std::to_string(limits_.max_streams) + " streams open)",
               {{"Retry-After", "10"}});
    return WriteResult::refused;
  }
  streaming_ = stream;  // counted from here; the destructor gives the slot back
  if (stream && limits_.max_duration.count() > 0) {
    stream_ends_ = std::chrono::steady_clock::now() + limits_.max_duration;
  }
  const std::string text = head.render(style_, protocol_);
  const std::string_view piece = text;
  head_sent_ = true;
  status_ = head.status();
  const WriteResult result = put(&piece, 1);
  if (head_only_ && state_ == WriteResult::ok) state_ = WriteResult::closed;
  return result;
}

WriteResult Response::write(const std::string_view* pieces, std::size_t count) {
  if (!head_sent_ || complete_) return WriteResult::refused;
  return put(pieces, count);
}

WriteResult Response::send(ResponseHead head, std::string_view body) {
  head.add("Content-Length", std::to_string(body.size()));
  const WriteResult result = send_head(head);
  if (result != WriteResult::ok) return result;
  const WriteResult body_result = put(&body, 1);
  complete_ = true;
  return body_result;
}

WriteResult Response::send(int status, std::string_view content_type, std::string_view body) {
  ResponseHead head(status);
  head.add("Content-Type", content_type);
  return send(std::move(head), body);
}

WriteResult Response::send_error(int status, std::string_view reason,
                                 const std::vector<Header>& extra_headers) {
  ResponseHead head(status);
  head.add("Content-Type", "text/plain; charset=utf-8");
  head.add("X-Content-Type-Options", "nosniff");
  head.add("Cache-Control", "no-store");
  for (const Header& header : extra_headers) head.add(header.name, header.value);
  std::string body(reason);
  body += '\n';
  return send(std::move(head), body);
}

bool Response::time_is_up() {
  // Called before every part of every stream: no clock read when there is no limit.
  if (stream_ends_ == std::chrono::steady_clock::time_point::max()) return false;
  if (std::chrono::steady_clock::now() < stream_ends_) return false;
  last_wake_ = Wake::time_limit;
  return true;
}

Wake Response::wait_until(std::chrono::steady_clock::time_point deadline, int notify_fd) {
  if (time_is_up()) return last_wake_;
  last_wake_ = waiter_.wait_until(std::min(deadline, stream_ends_), notify_fd);
  if (last_wake_ == Wake::deadline && std::chrono::steady_clock::now() >= stream_ends_) {
    last_wake_ = Wake::time_limit;
  }
  return last_wake_;
}

}  // namespace pushcgi
