// What a handler knows about a request: the CGI variables (RFC 3875) and the parsed query.
// Only GET and HEAD without a body are served, so there is no body (see Router::serve).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pushcgi/error.hpp"
#include "pushcgi/query.hpp"

namespace pushcgi {

using Params = std::vector<std::pair<std::string, std::string>>;

class Request {
 public:
  // Parses QUERY_STRING; if it is malformed, query() is empty and query_error() says why
  // (the Router answers such a request with 400).
  explicit Request(Params params);

  // "NAME=value" strings as in environ or fcgi2's envp, up to a null pointer.
  static Params params_from_environment(const char* const* envp);

  // A CGI variable: REQUEST_METHOD, SCRIPT_NAME, HTTP_USER_AGENT, ...
  std::optional<std::string_view> param(std::string_view name) const;
  // A request header by its HTTP name ("Last-Event-ID" reads HTTP_LAST_EVENT_ID).
  std::optional<std::string_view> header(std::string_view name) const;

  std::string_view method() const;       // "GET" when absent
  std::string_view path() const;         // PATH_INFO; "/" when empty
  std::string_view script_name() const;  // where the program is mounted
  std::string_view query_string() const;
  std::string_view user_agent() const;

  const Query& query() const { return query_; }
  const std::string& query_error() const { return query_error_; }
  const Params& params() const { return params_; }

 private:
  Params params_;
  Query query_;
  std::string query_error_;
};

}  // namespace pushcgi
