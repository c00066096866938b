#include "pushcgi/header.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

bool is_tchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != '\0' && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

}  // namespace

bool is_token(std::string_view text) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!is_tchar(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

bool has_line_break(std::string_view text) {
  return text.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos;
}

Error check_header(std::string_view name, std::string_view value) {
  if (!is_token(name)) return Error::bad_header_name;
  return has_line_break(value) ? Error::header_injection : Error::none;
}

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 413:
      return "Content Too Large";
    case 414:
      return "URI Too Long";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

ResponseHead::ResponseHead(int status) : status_(status >= 100 && status <= 599 ? status : 500) {}

Error ResponseHead::add(std::string_view name, std::string_view value) {
  const Error error = check_header(name, value);
  if (error != Error::none) {
    if (error_ == Error::none) error_ = error;
    return error;
  }
  headers_.push_back(Header{std::string(name), std::string(value)});
  return Error::none;
}

ResponseHead uncached_head(std::string_view content_type) {
  ResponseHead head(200);
  head.add("Content-Type", content_type);
  head.add_no_cache();
  return head;
}

void ResponseHead::add_no_cache() {
  add("Cache-Control", "no-cache, no-store, must-revalidate");
  add("Pragma", "no-cache");
  add("Expires", "0");
}

Error ResponseHead::add_preload(std::string_view target, std::string_view as) {
  const auto visible = [](char c) { return c > 0x20 && c < 0x7f; };
  const bool path = !target.empty() && target.front() == '/' && target.rfind("//", 0) != 0 &&
                    std::all_of(target.begin(), target.end(), visible) &&
                    target.find_first_of("<>,") == std::string_view::npos;
  const bool token = !as.empty() && std::all_of(as.begin(), as.end(), [](char c) {
    return std::isalpha(static_cast<unsigned char>(c)) != 0;
  });
  // A hint is dropped, never the response: a refused target is not remembered in error().
  if (!path || !token) return Error::bad_link_target;
  return add("Link", "<" + std::string(target) + ">; rel=preload; as=" + std::string(as));
}

void ResponseHead::add_stream_headers() {
  add_no_cache();
  add("X-Accel-Buffering", "no");
  streaming_ = true;
}

std::optional<std::string_view> ResponseHead::find(std::string_view name) const {
  for (const Header& header : headers_) {
    if (iequals(header.name, name)) return std::string_view(header.value);
  }
  return std::nullopt;
}

std::string ResponseHead::render(HeadStyle style, std::string_view protocol) const {
  std::string out;
  out.reserve(256);
  if (style == HeadStyle::nph) {
    out.append(protocol).append(" ");
  } else {
    out.append("Status: ");
  }
  out.append(std::to_string(status_)).append(" ").append(reason_phrase(status_)).append("\r\n");
  for (const Header& header : headers_) {
    out.append(header.name).append(": ").append(header.value).append("\r\n");
  }
  if (style == HeadStyle::nph && !find("Connection")) out.append("Connection: close\r\n");
  out.append("\r\n");
  return out;
}

}  // namespace pushcgi
