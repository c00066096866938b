// A multipart/x-mixed-replace response: each part replaces the one before in the browser.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/hub.hpp"
#include "pushcgi/multipart.hpp"
#include "pushcgi/pump.hpp"
#include "pushcgi/request.hpp"
#include "pushcgi/response.hpp"

namespace pushcgi {

class MultipartStream {
 public:
  // The framing suits the client (User-Agent), unless ?framing=browser|length says otherwise.
  // boundary: a random one per stream unless given (a shared boundary lets bodies be
  // checked once for every viewer; see part_pump).
  MultipartStream(const Request& request, Response& response, std::string part_type,
                  std::vector<Header> part_headers = {}, std::string boundary = random_boundary());
  // Writes the close delimiter if the stream is still open.
  ~MultipartStream();
  MultipartStream(const MultipartStream&) = delete;
  MultipartStream& operator=(const MultipartStream&) = delete;

  // Sends the head and the preamble, for a stream that the handler writes itself (a
  // blocking stream: it holds the worker thread). False when the stream cannot go on: a
  // bad ?framing= (answered with 400 and its reason), a HEAD request, a viewer already gone,
  // or every worker that streams may hold busy (answered with 503).
  bool start();

  // Hands the stream to an event loop (Response::pump), the way to serve many viewers: sends
  // the head and the preamble, and from then on every value the pump takes becomes one
  // part. The pump's render gives the part's head (in length framing; nothing in browser
  // framing) and its body; the delimiter after each part and the close delimiter at the end
  // are added here. False when the stream does not start, as for start() (503: at the
  // stream limit).
  bool pump(Pump pump);

  // Who checks a body for the boundary: this stream, for each viewer (a boundary of its
  // own), or the producer, once per body for every stream that shares its boundary (given
  // to the constructor; see MultipartWriter::contains_boundary).
  enum class BodyCheck { each_viewer, by_producer };

  // A pump for pump(): each value of hub becomes a part whose body is body_of(value), a
  // std::shared_ptr<const std::string> (the value itself, or something made once per value
  // and kept with it; null: nothing to send). Per viewer only its part head in length
  // framing is made, and with BodyCheck::each_viewer the body is checked for the boundary
  // (a body holding it is not sent, and logged).
  template <typename T, typename BodyOf>
  Pump part_pump(Hub<T>& hub, BodyOf body_of, BodyCheck check = BodyCheck::each_viewer) const {
    return Pump(hub, [writer = shared_writer(), body_of = std::move(body_of), check](
                         const typename Hub<T>::Value& value, Parts& parts) {
      std::shared_ptr<const std::string> body = body_of(value);
      if (!body || !frame_part(*writer, *body, value.produced, check, parts)) return false;
      parts.keep = std::move(body);
      return true;
    });
  }

  // Sends one part, produced at the given time (X-Timestamp in length framing). False if
  // the part was not written: the body holds the boundary (the part is refused and logged;
  // the stream goes on), or the viewer is gone (see response.state()).
  bool send(std::string_view body,
            std::chrono::system_clock::time_point produced = std::chrono::system_clock::now());

  // The close delimiter, once; a clean end that every browser shows as the last part.
  void close();

  bool open() const {
    return started_ && !closed_ && !pumped_ && response_.state() == WriteResult::ok;
  }
  // Set once constructed with a valid framing.
  const std::optional<MultipartWriter>& writer() const { return writer_; }

 private:
  std::shared_ptr<const MultipartWriter> shared_writer() const;
  // parts: the part head (in parts.text) and body; false if the body holds the boundary.
  static bool frame_part(const MultipartWriter& writer, std::string_view body,
                         std::chrono::system_clock::time_point produced, BodyCheck check,
                         Parts& parts);

  Response& response_;
  std::optional<MultipartWriter> writer_;
  std::string framing_error_;
  PartFrame frame_;
  bool started_ = false;
  bool closed_ = false;
  bool pumped_ = false;  // handed to an event loop: nothing more is written here
};

}  // namespace pushcgi
