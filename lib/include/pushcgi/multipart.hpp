// multipart/x-mixed-replace framing (RFC 2046 5.1), without I/O: turns parts into bytes.
//
// Every part's delimiter is written right after its body, so a part is complete the moment
// it is sent. Two framings:
//  * browser: after each body the delimiter *and the next part's header block*. Chromium and
//    WebKit paint a part only once the following part's header block has been parsed (they
//    ignore Content-Length), so any other framing shows every frame one frame late.
//  * length: each part carries Content-Type, Content-Length and X-Timestamp, for clients that
//    need the length (ffmpeg, OpenCV, VLC, embedded viewers).
//
// Bytes of a stream with boundary B and part type T:
//   preamble:         "--B\r\n"  + (browser: "Content-Type: T\r\n" extras "\r\n")
//   before each body: browser: nothing; length: "Content-Type: T\r\nContent-Length: N\r\n"
//                     "X-Timestamp: S.UUUUUU\r\n" extras "\r\n"
//   after each body:  "\r\n--B\r\n" + (browser: "Content-Type: T\r\n" extras "\r\n")
//   close delimiter:  "\r\n--B--\r\n" (ends the part opened last as an empty one)
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/error.hpp"
#include "pushcgi/header.hpp"

namespace pushcgi {

enum class Framing { browser, length };

std::string_view to_string(Framing framing);

// Browser framing for a User-Agent that starts with "Mozilla/" (every browser), length
// framing for anything else. A framing query value ("browser" or "length") overrides; any
// other value is refused with a one-line reason.
Parsed<Framing> choose_framing(std::string_view user_agent,
                               std::optional<std::string_view> query_value);

// 1-70 characters from RFC 2046's bchars, not ending in a space.
bool is_valid_boundary(std::string_view boundary);

// "pushcgi-" and 128 random bits in hex (getrandom): practically never in any body.
std::string random_boundary();

// "SECONDS.MICROSECONDS" since the Unix epoch, as in X-Timestamp.
std::string format_timestamp(std::chrono::system_clock::time_point when);

// The bytes that go before and after one body.
struct PartFrame {
  std::string head;
  std::string tail;
};

class MultipartWriter {
 public:
  // Throws std::invalid_argument if part_type, a part header or the boundary is invalid:
  // these are the program's own constants, so that is a bug, not a run-time condition.
  MultipartWriter(Framing framing, std::string part_type, std::vector<Header> part_headers = {},
                  std::string boundary = random_boundary());

  Framing framing() const { return framing_; }
  const std::string& boundary() const { return boundary_; }

  // "multipart/x-mixed-replace; boundary=B"
  std::string content_type() const;
  // 200 with the Content-Type above and the stream headers (no caching, no buffering).
  ResponseHead response_head() const;

  // Written once, right after the response head.
  const std::string& preamble() const { return preamble_; }

  // Frames one body; the body itself is not copied. Error::boundary_in_body if the body
  // contains "--B", and then nothing may be written.
  Error frame(std::string_view body, std::chrono::system_clock::time_point produced,
              PartFrame& out) const;

  // True if body holds "--B" and so may not be written as a part.
  bool contains_boundary(std::string_view body) const;

  // The header block that goes before a body in length framing (empty in browser framing):
  // the same for every viewer of the same body, so it can be made once. extra: headers of
  // this part only (after the writer's own); the caller checks them (check_header).
  std::string part_head(std::size_t body_size, std::chrono::system_clock::time_point produced,
                        const std::vector<Header>& extra = {}) const;

  // Written after every body.
  const std::string& tail() const { return tail_; }

  // Written on a clean end.
  const std::string& close_delimiter() const { return close_delimiter_; }

 private:
  std::string header_block() const;

  Framing framing_;
  std::string part_type_;
  std::vector<Header> part_headers_;
  std::string boundary_;
  std::string dash_boundary_;
  std::string preamble_;
  std::string tail_;
  std::string close_delimiter_;
};

}  // namespace pushcgi
