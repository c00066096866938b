// Dispatch of one request to the handler of its path, with the answers every program gives
// the same way: 400 for a malformed query, 404, 405, 413 for a request body, and 500 for a
// handler that throws.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "pushcgi/request.hpp"
#include "pushcgi/response.hpp"

namespace pushcgi {

using Handler = std::function<void(const Request&, Response&)>;

class Router {
 public:
  // path is matched exactly against PATH_INFO ("" counts as "/"). GET and HEAD only.
  void add(std::string path, Handler handler);

  // Reads what remains of the request's body and says whether there was none. It must return
  // at the body's first byte: a client that trickles a body (Apache's mod_reqtimeout lets one
  // arrive at 500 B/s) must not hold a thread while it does.
  using BodyIsEmpty = std::function<bool()>;

  // Answers one request on sink. Only GET and HEAD without a body are served: another method
  // gets 405, and a body (CONTENT_LENGTH, Transfer-Encoding, or a byte from body_is_empty,
  // which is called only for a request that passed every other check) 413, before any of
  // it is read. A handler that throws gets a 500 for this request only (or just the end of
  // its stream, if the head is out), and one error line in the log. When a stream ends, one
  // info line says how long it ran and why it ended. limits: see Response::limit_streams.
  void serve(Params params, Sink& sink, Waiter& waiter, HeadStyle style,
             const StreamLimits& limits = {}, const BodyIsEmpty& body_is_empty = {}) const;

 private:
  const Handler* find(std::string_view path) const;
  void call(const Handler& handler, const Request& request, Response& response) const;

  std::vector<std::pair<std::string, Handler>> routes_;
};

}  // namespace pushcgi
