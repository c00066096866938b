#include "pushcgi/router.hpp"

#include <cstdio>
#include <exception>

#include "pushcgi/log.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

std::string end_reason(const Response& response) {
  const Wake wake = response.last_wake();
  if (wake == Wake::viewer_left || wake == Wake::shutdown || wake == Wake::time_limit) {
    return std::string(to_string(wake));
  }
  if (response.state() != WriteResult::ok) return std::string(to_string(response.state()));
  return "ended by the program";
}

void log_stream_end(const Request& request, const Response& response) {
  const auto elapsed = std::chrono::steady_clock::now() - response.started();
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", std::chrono::duration<double>(elapsed).count());
  log(LogLevel::info, std::string(request.method()) + " " + std::string(request.path()) +
                          ": stream ended after " + seconds + " s, " +
                          std::to_string(response.bytes_sent()) +
                          " bytes: " + end_reason(response));
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
  routes_.emplace_back(std::move(path), std::move(handler));
}

const Handler* Router::find(std::string_view path) const {
  for (const auto& route : routes_) {
    if (route.first == path) return &route.second;
  }
  return fallback_ ? &fallback_ : nullptr;
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
  const Handler* handler = find(request.path());
  if (handler == nullptr) {
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
  call(*handler, request, response);
  if (auto stream = response.take_pumped()) {
    return Pumped{std::move(*stream),
                  std::string(request.method()) + " " + std::string(request.path())};
  }
  if (response.streaming() && !response.pumped()) log_stream_end(request, response);
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
