#include "pushcgi/multipart_stream.hpp"

#include "pushcgi/log.hpp"

namespace pushcgi {

MultipartStream::MultipartStream(const Request& request, Response& response, std::string part_type,
                                 std::vector<Header> part_headers, std::string boundary)
    : response_(response) {
  const Parsed<Framing> framing =
      choose_framing(request.user_agent(), request.query().get("framing"));
  if (framing) {
    writer_.emplace(*framing, std::move(part_type), std::move(part_headers), std::move(boundary));
  } else {
    framing_error_ = framing.error();
  }
}

MultipartStream::~MultipartStream() {
  close();
}

bool MultipartStream::start() {
  if (started_) return open();
  started_ = true;
  if (!writer_) {
    response_.send_error(400, framing_error_);
    closed_ = true;
    return false;
  }
  if (response_.send_head(writer_->response_head()) != WriteResult::ok) return false;
  const std::string_view preamble = writer_->preamble();
  return response_.write(&preamble, 1) == WriteResult::ok;
}

bool MultipartStream::pump(Pump pump) {
  if (started_) return false;
  started_ = true;
  if (!writer_) {
    response_.send_error(400, framing_error_);
    closed_ = true;
    return false;
  }
  pump.after_each(writer_->tail()).end_with(writer_->close_delimiter());
  pumped_ = response_.pump(writer_->response_head(), writer_->preamble(), std::move(pump));
  closed_ = !pumped_;
  return pumped_;
}

// Null with a bad ?framing=, and then pump() answers 400 and the pump is never run.
std::shared_ptr<const MultipartWriter> MultipartStream::shared_writer() const {
  return writer_ ? std::make_shared<const MultipartWriter>(*writer_) : nullptr;
}

bool MultipartStream::frame_part(const MultipartWriter& writer, std::string_view body,
                                 std::chrono::system_clock::time_point produced, BodyCheck check,
                                 Parts& parts) {
  if (check == BodyCheck::each_viewer && writer.contains_boundary(body)) {
    log(LogLevel::warning, "part of " + std::to_string(body.size()) + " bytes not sent: " +
                               std::string(to_string(Error::boundary_in_body)));
    return false;
  }
  parts.text = writer.part_head(body.size(), produced);
  parts.add(parts.text);
  parts.add(body);
  return true;
}

bool MultipartStream::send(std::string_view body, std::chrono::system_clock::time_point produced) {
  if (!open()) return false;
  const Error error = writer_->frame(body, produced, frame_);
  if (error != Error::none) {
    log(LogLevel::warning, "part of " + std::to_string(body.size()) +
                               " bytes not sent: " + std::string(to_string(error)));
    return false;
  }
  const std::string_view pieces[] = {frame_.head, body, frame_.tail};
  return response_.write(pieces, 3) == WriteResult::ok;
}

void MultipartStream::close() {
  if (!open()) return;
  closed_ = true;
  if (response_.last_wake() == Wake::viewer_left) return;  // nobody to tell
  const std::string_view delimiter = writer_->close_delimiter();
  response_.write(&delimiter, 1);
}

}  // namespace pushcgi
