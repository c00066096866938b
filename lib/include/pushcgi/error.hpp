// Status values for the failures that are expected at run time. Exceptions are
// kept off the I/O path (a viewer leaving or a bad query is normal).
#pragma once

#include <string>
#include <string_view>
#include <utility>

namespace pushcgi {

enum class Error {
  none,
  bad_header_name,   // not an RFC 9110 token
  header_injection,  // CR, LF or NUL in a header value
  bad_boundary,      // not 1-70 RFC 2046 bchars, or ends in a space
  boundary_in_body,  // the part would end the stream early (RFC 2046 5.1.1)
  bad_event_field,   // CR, LF or NUL in an SSE event name or id
  bad_link_target,   // a preload target that is not a path of visible characters
};

std::string_view to_string(Error error);

// A parsed value or a one-line reason why the input was refused, meant to be shown to
// whoever supplied the input (as a 400 body or an option error).
template <typename T>
class Parsed {
 public:
  Parsed(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  static Parsed failure(std::string reason) {
    Parsed parsed{T{}};
    parsed.error_ = std::move(reason);
    return parsed;
  }

  explicit operator bool() const { return error_.empty(); }
  const T& value() const { return value_; }
  T& value() { return value_; }
  const T& operator*() const { return value_; }
  const T* operator->() const { return &value_; }
  const std::string& error() const { return error_; }

 private:
  T value_;
  std::string error_;
};

}  // namespace pushcgi
