#include "pushcgi/error.hpp"

namespace pushcgi {

std::string_view to_string(Error error) {
  switch (error) {
    case Error::none:
      return "no error";
    case Error::bad_header_name:
      return "header name is not an HTTP token";
    case Error::header_injection:
      return "CR, LF or NUL in a header value";
    case Error::bad_boundary:
      return "boundary is not 1-70 RFC 2046 characters";
    case Error::boundary_in_body:
      return "part body contains the multipart boundary";
    case Error::bad_event_field:
      return "CR, LF or NUL in an event name or id";
    case Error::bad_link_target:
      return "preload target is not a path of visible characters without <, > or ,";
  }
  return "unknown error";
}

}  // namespace pushcgi
