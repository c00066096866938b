// HTTP response heads for CGI and nph- CGI, with every caller-supplied header checked.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/error.hpp"

namespace pushcgi {

struct Header {
  std::string name;
  std::string value;
};

// RFC 9110 5.6.2 token: what a header name may be made of.
bool is_token(std::string_view text);

// CR, LF or NUL: what would end a header line or an SSE field early.
bool has_line_break(std::string_view text);

// Error::none, Error::bad_header_name, or Error::header_injection (CR, LF or NUL in the
// value: a line break would let the value start headers of its own).
Error check_header(std::string_view name, std::string_view value);

// "OK", "Not Found", ...; "Unknown" for codes this library does not name.
std::string_view reason_phrase(int status);

// How a head is written: a CGI program writes "Status: 200 OK" and the web server writes
// the status line; an nph- ("non-parsed headers") program writes the whole HTTP/1.x head.
enum class HeadStyle { cgi, nph };

class ResponseHead {
 public:
  // status must be 100-599; anything else becomes 500.
  explicit ResponseHead(int status = 200);

  // Adds a header after checking it. A refused header is not stored; the first refusal is
  // remembered in error(), and a Response refuses to send a head whose error() is set.
  Error add(std::string_view name, std::string_view value);

  // Cache-Control, Pragma and Expires that keep every cache from storing the response.
  void add_no_cache();
  // No-cache plus X-Accel-Buffering: no (nginx passes the stream on unbuffered); marks the
  // response as a stream that has no end known in advance.
  void add_stream_headers();
  // Link: <target>; rel=preload; as=AS: the page will certainly ask for target (a path on
  // this site, "/..."), so a browser may fetch it before it has parsed the page, and nginx
  // (http2_push_preload on) and Apache (H2Push on) push it over HTTP/2 to the clients that
  // still take pushes. Never for a stream: a pushed stream would hold a viewer's place for a
  // picture the client may never use. A refused target (not "/...", "//host", a space, '<',
  // '>' or ',') adds nothing and, unlike add(), leaves error() alone: a hint never costs the
  // response.
  Error add_preload(std::string_view target, std::string_view as);

  int status() const { return status_; }
  bool streaming() const { return streaming_; }
  Error error() const { return error_; }
  const std::vector<Header>& headers() const { return headers_; }
  // Case-insensitive look-up of the first header with that name.
  std::optional<std::string_view> find(std::string_view name) const;

  // The head including the empty line that ends it. protocol is the status line's version
  // for HeadStyle::nph (take SERVER_PROTOCOL); nph heads also say Connection: close, since a
  // stream's end is the end of the connection.
  std::string render(HeadStyle style, std::string_view protocol = "HTTP/1.1") const;

 private:
  int status_;
  bool streaming_ = false;
  Error error_ = Error::none;
  std::vector<Header> headers_;
};

// A 200 head with Content-Type and the no-cache headers: what every page, snapshot and
// /state answer starts with.
ResponseHead uncached_head(std::string_view content_type);

}  // namespace pushcgi
