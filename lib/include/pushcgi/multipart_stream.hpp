// A multipart/x-mixed-replace response: each part replaces the one before in the browser.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/multipart.hpp"
#include "pushcgi/request.hpp"
#include "pushcgi/response.hpp"

namespace pushcgi {

class MultipartStream {
 public:
  // The framing suits the client (User-Agent), unless ?framing=browser|length says otherwise.
  // boundary: a random one per stream unless given (a shared boundary lets bodies be
  // checked once for every viewer; see send_prepared).
  MultipartStream(const Request& request, Response& response, std::string part_type,
                  std::vector<Header> part_headers = {}, std::string boundary = random_boundary());
  // Writes the close delimiter if the stream is still open.
  ~MultipartStream();
  MultipartStream(const MultipartStream&) = delete;
  MultipartStream& operator=(const MultipartStream&) = delete;

  // Sends the head and the preamble. False when the stream cannot go on: a bad ?framing=
  // (answered with 400 and its reason), a HEAD request, or a viewer already gone.
  bool start();

  // Sends one part, produced at the given time (X-Timestamp in length framing). False if
  // the part was not written: the body holds the boundary (the part is refused and logged;
  // the stream goes on), or the viewer is gone (see response.state()).
  bool send(std::string_view body,
            std::chrono::system_clock::time_point produced = std::chrono::system_clock::now());

  // Sends one part whose head (writer()->part_head()) was made in advance and whose body
  // was already checked for the boundary: no copy, no per-viewer work but the write.
  bool send_prepared(std::string_view head, std::string_view body);

  // The close delimiter, once; a clean end that every browser shows as the last part.
  void close();

  bool open() const { return started_ && !closed_ && response_.state() == WriteResult::ok; }
  // Set once constructed with a valid framing.
  const std::optional<MultipartWriter>& writer() const { return writer_; }

 private:
  Response& response_;
  std::optional<MultipartWriter> writer_;
  std::string framing_error_;
  PartFrame frame_;
  bool started_ = false;
  bool closed_ = false;
};

}  // namespace pushcgi
