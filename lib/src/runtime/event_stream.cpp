#include "pushcgi/event_stream.hpp"

#include "pushcgi/log.hpp"

namespace pushcgi {

EventStream::EventStream(const Request& request, Response& response)
    : request_(request), response_(response) {}

bool EventStream::start(std::optional<std::chrono::milliseconds> retry) {
  if (started_) return open();
  started_ = true;
  if (response_.send_head(event_stream_head()) != WriteResult::ok) return false;
  if (!retry) return true;
  return write("retry: " + std::to_string(retry->count()) + "\n\n");
}

bool EventStream::pump(Pump pump, std::optional<std::chrono::milliseconds> retry) {
  if (started_) return false;
  started_ = true;
  const std::string first = retry ? "retry: " + std::to_string(retry->count()) + "\n\n" : "";
  return response_.pump(event_stream_head(), first, std::move(pump));
}

bool EventStream::send(const Event& event) {
  if (!open()) return false;
  buffer_.clear();
  const Error error = format_event(event, buffer_);
  if (error != Error::none) {
    log(LogLevel::warning, "event not sent: " + std::string(to_string(error)));
    return false;
  }
  return write(buffer_);
}

bool EventStream::comment(std::string_view text) {
  return open() && write(format_comment(text));
}

bool EventStream::write(std::string_view text) {
  return response_.write(&text, 1) == WriteResult::ok;
}

}  // namespace pushcgi
