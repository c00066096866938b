#include "pushcgi/multipart.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "pushcgi/text.hpp"

namespace pushcgi {

std::string_view to_string(Framing framing) {
  return framing == Framing::browser ? "browser" : "length";
}

Parsed<Framing> choose_framing(std::string_view user_agent,
                               std::optional<std::string_view> query_value) {
  if (query_value) {
    if (*query_value == "browser") return Framing::browser;
    if (*query_value == "length") return Framing::length;
    return Parsed<Framing>::failure("framing: expected browser|length, got " +
                                    quote_input(*query_value));
  }
  return user_agent.substr(0, 8) == "Mozilla/" ? Framing::browser : Framing::length;
}

bool is_valid_boundary(std::string_view boundary) {
  // RFC 2046 5.1.1: bchars := bcharsnospace / " "
  static constexpr std::string_view kNoSpace = "'()+_,-./:=?";
  if (boundary.empty() || boundary.size() > 70 || boundary.back() == ' ') return false;
  for (char c : boundary) {
    const bool alnum = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    if (!alnum && c != ' ' && kNoSpace.find(c) == std::string_view::npos) return false;
  }
  return true;
}

std::string random_boundary() {
  unsigned char bytes[16];
  std::size_t got = 0;
  while (got < sizeof bytes) {
    const ssize_t n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw std::system_error(errno, std::generic_category(), "getrandom");
    }
    got += static_cast<std::size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string boundary = "pushcgi-";
  for (unsigned char b : bytes) {
    boundary += kHex[b >> 4];
    boundary += kHex[b & 15];
  }
  return boundary;
}

std::string format_timestamp(std::chrono::system_clock::time_point when) {
  const auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(when.time_since_epoch()).count();
  char text[32];
  std::snprintf(text, sizeof text, "%lld.%06lld", static_cast<long long>(micros / 1000000),
                static_cast<long long>(micros % 1000000));
  return text;
}

MultipartWriter::MultipartWriter(Framing framing, std::string part_type,
                                 std::vector<Header> part_headers, std::string boundary)
    : framing_(framing),
      part_type_(std::move(part_type)),
      part_headers_(std::move(part_headers)),
      boundary_(std::move(boundary)),
      dash_boundary_("--" + boundary_) {
  if (!is_valid_boundary(boundary_)) throw std::invalid_argument("invalid multipart boundary");
  if (part_type_.empty() || check_header("Content-Type", part_type_) != Error::none) {
    throw std::invalid_argument("invalid part Content-Type");
  }
  for (const Header& header : part_headers_) {
    if (check_header(header.name, header.value) != Error::none) {
      throw std::invalid_argument("invalid part header " + header.name);
    }
  }
  const std::string next_block = framing_ == Framing::browser ? header_block() : std::string();
  preamble_ = dash_boundary_ + "\r\n" + next_block;
  tail_ = "\r\n" + dash_boundary_ + "\r\n" + next_block;
  close_delimiter_ = "\r\n" + dash_boundary_ + "--\r\n";
}

std::string MultipartWriter::header_block() const {
  std::string block = "Content-Type: " + part_type_ + "\r\n";
  for (const Header& header : part_headers_) {
    block.append(header.name).append(": ").append(header.value).append("\r\n");
  }
  return block + "\r\n";
}

std::string MultipartWriter::content_type() const {
  return "multipart/x-mixed-replace; boundary=" + boundary_;
}

ResponseHead MultipartWriter::response_head() const {
  ResponseHead head(200);
  head.add("Content-Type", content_type());
  head.add_stream_headers();
  return head;
}

Error MultipartWriter::frame(std::string_view body, std::chrono::system_clock::time_point produced,
                             PartFrame& out) const {
  if (contains_boundary(body)) return Error::boundary_in_body;
  out.head = part_head(body.size(), produced);
  out.tail = tail_;
  return Error::none;
}

bool MultipartWriter::contains_boundary(std::string_view body) const {
  return memmem(body.data(), body.size(), dash_boundary_.data(), dash_boundary_.size()) != nullptr;
}

std::string MultipartWriter::part_head(std::size_t body_size,
                                       std::chrono::system_clock::time_point produced,
                                       const std::vector<Header>& extra) const {
  std::string head;
  if (framing_ != Framing::length) return head;
  head.append("Content-Type: ").append(part_type_).append("\r\n");
  head.append("Content-Length: ").append(std::to_string(body_size)).append("\r\n");
  head.append("X-Timestamp: ").append(format_timestamp(produced)).append("\r\n");
  for (const std::vector<Header>* headers : {&part_headers_, &extra}) {
    for (const Header& header : *headers) {
      head.append(header.name).append(": ").append(header.value).append("\r\n");
    }
  }
  return head.append("\r\n");
}

}  // namespace pushcgi
