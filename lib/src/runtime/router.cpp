#include "pushcgi/router.hpp"

#include <cstdio>
#include <exception>

#include "pushcgi/log.hpp"
#include "pushcgi/text.hpp"
#include "runtime/stream_ending.hpp"

namespace pushcgi {

namespace {

using detail::Ending;

// Why a stream its worker wrote to the end ended: what woke it last, else how its last
// write went.
Ending ending_of(const Response& response) {
  switch (response.last_wake()) {
    case Wake::viewer_left:
      return detail::kViewerLeft;
    case Wake::shutdown:
      return detail::kShutdown;
    case Wake::time_limit:
      return detail::kTimeLimit;
    default:
      break;
  }
  switch (response.state()) {
    case WriteResult::ok:
      return {"ended by the program", StreamEnd::program};
    case WriteResult::closed:
      return detail::kClosedByPeer;
    case WriteResult::refused:
      return {"refused", StreamEnd::failed};
    case WriteResult::failed:
      break;
  }
  return detail::kWriteFailed;
}

void log_stream_end(const Request& request, const Response& response, const Ending& ending) {
  const auto elapsed = std::chrono::steady_clock::now() - response.started();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", std::chrono::duration<double>(elapsed).count());
  log(LogLevel::info, std::string(request.method()) + " " + std::string(request.path()) +
                          ": stream ended after " + seconds + " s, " +
                          std::to_string(response.bytes_sent()) + " bytes: " + ending.text);
}

// RFC 9112 section 6.3: a body has a Content-Length or a Transfer-Encoding. The web server
// passes the first as CONTENT_LENGTH (empty or "0" without a body); the second, which Apache
// may relay without a length, as HTTP_TRANSFER_ENCODING.
bool announces_body(const Request& request) {
  const std::string_view length = request.param("CONTENT_LENGTH").value_or("");
  return length.find_first_not_of('0') != std::string_view::npos ||
         request.param("HTTP_TRANSFER_ENCODING").has_value();
}

}  // namespace

void Router::add(std::string path, Handler handler) {
  auto streams = std::make_unique<RouteStreams>(path);
  routes_.push_back(Route{std::move(path), std::move(handler), std::move(streams)});
}

const Router::Route* Router::find(std::string_view path) const {
  for (const Route& route : routes_) {
    if (route.path == path) return &route;
  }
  return fallback_.handler ? &fallback_ : nullptr;
}

std::vector<const RouteStreams*> Router::stream_routes() const {
  std::vector<const RouteStreams*> streams;
  for (const Route& route : routes_) {
    if (route.streams->started() != 0) streams.push_back(route.streams.get());
  }
  if (fallback_.streams->started() != 0) streams.push_back(fallback_.streams.get());
  return streams;
}

std::optional<Router::Pumped> Router::serve(Params params, Sink& sink, Waiter& waiter,
                                            const Context& context) const {
  const Request request(std::move(params));
  const std::string protocol(request.param("SERVER_PROTOCOL").value_or("HTTP/1.1"));
  const bool head_only = request.method() == "HEAD";
  Response response(sink, waiter, context.style, protocol, head_only);
  response.use_slots(context.slots, context.max_stream_duration);

  if (!request.query_error().empty()) {
    response.send_error(400, request.query_error());
    return std::nullopt;
  }
  const Route* route = find(request.path());
  if (route == nullptr) {
    response.send_error(404, "no such page: " + quote_input(request.path()));
    return std::nullopt;
  }
  if (request.method() != "GET" && !head_only) {
    response.send_error(405, "method not allowed: " + quote_input(request.method()),
                        {{"Allow", "GET, HEAD"}});
    return std::nullopt;
  }
  if (announces_body(request) || (context.body_is_empty && !context.body_is_empty())) {
    response.send_error(413, "a request body is not accepted");
    return std::nullopt;
  }
  response.count_in(route->streams.get());
  call(route->handler, request, response);
  if (auto stream = response.take_pumped()) {
    return Pumped{std::move(*stream),
                  std::string(request.method()) + " " + std::string(request.path())};
  }
  if (response.streaming() && !response.pumped()) {
    const Ending ending = ending_of(response);
    log_stream_end(request, response, ending);
    response.count_end(ending.kind);
  }
  return std::nullopt;
}

void Router::call(const Handler& handler, const Request& request, Response& response) const {
  try {
    handler(request, response);
  } catch (const std::exception& error) {
    log(LogLevel::error, std::string(request.path()) + ": handler failed: " + error.what());
  } catch (...) {
    log(LogLevel::error, std::string(request.path()) + ": handler failed");
  }
  if (!response.head_sent() && !response.pumped()) {
    response.send_error(500, "internal error");
  }
}

}  // namespace pushcgi
