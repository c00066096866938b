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

Response::~Response() = default;

WriteResult Response::put(const std::string_view* pieces, std::size_t count) {
  if (state_ != WriteResult::ok) return state_;
  state_ = sink_.write(pieces, count);
  if (state_ == WriteResult::ok) {
    std::uint64_t bytes = 0;
    for (std::size_t i = 0; i < count; ++i) bytes += pieces[i].size();
    bytes_sent_ += bytes;
    tally_.sent(bytes);
  }
  return state_;
}

// Taken before the head goes out, so that two requests racing for the last slot cannot
// both get it; refused: a 503 instead of the head.
bool Response::take_slot(StreamSlots::Kind kind) {
  if (slots_ == nullptr) return true;
  slot_ = slots_->take(kind);
  if (slot_) return true;
  if (route_ != nullptr && kind != StreamSlots::Kind::reply) route_->refused();
  send_error(503, slots_->refusal(kind), {{"Retry-After", "10"}});
  return false;
}

WriteResult Response::send_head(const ResponseHead& head) {
  // After reply_later the event loop writes the whole reply.
  if (head_sent_ || (pump_ && pump_->is_once())) return WriteResult::refused;
  if (head.error() != Error::none) {
    log(LogLevel::error,
        "refused to send a response head: " + std::string(to_string(head.error())));
    send_error(500, "internal error: the program made an invalid header");
    return WriteResult::refused;
  }
  const bool stream = head.streaming() && !head_only_;
  if (stream && !pump_ && !take_slot(StreamSlots::Kind::blocking)) return WriteResult::refused;
  streaming_ = stream;  // counted from here; the slot goes back with the response
  if (stream) tally_ = StreamTally(route_);
  if (stream && max_duration_.count() > 0) {
    stream_ends_ = std::chrono::steady_clock::now() + max_duration_;
  }
  const std::string text = head.render(style_, protocol_);
  const std::string_view piece = text;
  head_sent_ = true;
  status_ = head.status();
  const WriteResult result = put(&piece, 1);
  if (head_only_ && state_ == WriteResult::ok) state_ = WriteResult::closed;
  return result;
}

bool Response::pump(const ResponseHead& head, std::string_view first, Pump pump) {
  if (head_sent_ || pump_) return false;
  if (head_only_) {
    send_head(head);
    return false;
  }
  if (head.error() == Error::none && !take_slot(StreamSlots::Kind::pumped)) return false;
  pump_ = std::make_unique<Pump>(std::move(pump));  // so that send_head takes no slot
  if (send_head(head) != WriteResult::ok || write(&first, 1) != WriteResult::ok) {
    pump_.reset();
    return false;
  }
  return true;
}

std::optional<Response::Pumped> Response::take_pumped() {
  if (!pump_ || state_ != WriteResult::ok) return std::nullopt;
  if (pump_->is_once() == head_sent_) return std::nullopt;  // a reply has no head yet
  Pumped pumped;
  pumped.pump = std::move(pump_);
  pumped.slot = std::move(slot_);
  pumped.tally = std::move(tally_);
  pumped.bytes_sent = bytes_sent_;
  pumped.started = started_;
  pumped.max_duration = max_duration_;
  return pumped;
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

ResponseHead error_head(int status, const std::vector<Header>& extra_headers) {
  ResponseHead head(status);
  head.add("Content-Type", "text/plain; charset=utf-8");
  head.add("X-Content-Type-Options", "nosniff");
  head.add("Cache-Control", "no-store");
  for (const Header& header : extra_headers) head.add(header.name, header.value);
  return head;
}

WriteResult Response::send_error(int status, std::string_view reason,
                                 const std::vector<Header>& extra_headers) {
  std::string body(reason);
  body += '\n';
  return send(error_head(status, extra_headers), body);
}

bool ReplyFormat::render(ResponseHead head, std::string_view body, Parts& parts) const {
  head.add("Content-Length", std::to_string(body.size()));
  if (head.error() != Error::none) {
    log(LogLevel::error,
        "refused to send a response head: " + std::string(to_string(head.error())));
    return false;
  }
  parts.text = head.render(style_, protocol_);
  parts.add(parts.text);
  if (!head_only_) parts.add(body);
  return true;
}

std::string ReplyFormat::error(int status, std::string_view reason,
                               const std::vector<Header>& extra_headers) const {
  std::string body(reason);
  body += '\n';
  ResponseHead head = error_head(status, extra_headers);
  head.add("Content-Length", std::to_string(body.size()));
  return head.render(style_, protocol_) + (head_only_ ? std::string() : body);
}

bool Response::reply_later(Pump pump) {
  if (head_sent_ || pump_) return false;
  if (!take_slot(StreamSlots::Kind::reply)) return false;
  pump_ = std::make_unique<Pump>(std::move(pump));
  return true;
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
