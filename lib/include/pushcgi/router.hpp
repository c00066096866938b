// Dispatch of one request to the handler of its path, with the answers every program gives
// the same way: 400 for a malformed query, 404, 405, 413 for a request body, and 500 for a
// handler that throws.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
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
  // Serves every path that has no route of its own (paths that depend on the program's
  // configuration, such as a camera's name), after the same checks as a route; without one
  // such a path gets a 404 "no such page".
  void set_fallback(Handler handler) { fallback_.handler = std::move(handler); }

  // Reads what remains of the request's body and says whether there was none. It must return
  // at the body's first byte: a client that trickles a body (Apache's mod_reqtimeout lets one
  // arrive at 500 B/s) must not hold a thread while it does.
  using BodyIsEmpty = std::function<bool()>;

  // How the runtime serves a request.
  struct Context {
    HeadStyle style = HeadStyle::cgi;
    StreamSlots* slots = nullptr;  // see Response::use_slots
    std::chrono::seconds max_stream_duration{0};
    BodyIsEmpty body_is_empty;
  };

  // A stream the handler pumped (Response::pump), for the runtime to hand to an event loop.
  struct Pumped {
    Response::Pumped stream;
    std::string name;  // "GET /stream", for the line logged when it ends
  };

  // Answers one request on sink. Only GET and HEAD without a body are served: another method
  // gets 405, and a body (CONTENT_LENGTH, Transfer-Encoding, or a byte from body_is_empty,
  // which is called only for a request that passed every other check) 413, before any of
  // it is read. A handler that throws gets a 500 for this request only (or just the end of
  // its stream, if the head is out), and one error line in the log. When a blocking stream
  // ends, one info line says how long it ran and why it ended (the event loop says so for a
  // pumped one).
  std::optional<Pumped> serve(Params params, Sink& sink, Waiter& waiter,
                              const Context& context) const;

  // The streams of every route that has started one, in the order the routes were added
  // (the fallback's as route "other"), for /metrics.
  std::vector<const RouteStreams*> stream_routes() const;

 private:
  struct Route {
    std::string path;
    Handler handler;
    std::unique_ptr<RouteStreams> streams;  // where the handler's responses count
  };

  const Route* find(std::string_view path) const;
  void call(const Handler& handler, const Request& request, Response& response) const;

  std::vector<Route> routes_;
  Route fallback_{"", nullptr, std::make_unique<RouteStreams>("other")};
};

}  // namespace pushcgi
