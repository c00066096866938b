#include "pushcgi/request.hpp"

#include <cstring>

namespace pushcgi {

Request::Request(Params params) : params_(std::move(params)) {
  Parsed<Query> query = Query::parse(query_string());
  if (query) {
    query_ = std::move(query.value());
  } else {
    query_error_ = query.error();
  }
}

Params Request::params_from_environment(const char* const* envp) {
  Params params;
  for (; envp != nullptr && *envp != nullptr; ++envp) {
    const char* eq = std::strchr(*envp, '=');
    if (eq == nullptr) continue;
    params.emplace_back(std::string(*envp, eq), std::string(eq + 1));
  }
  return params;
}

std::optional<std::string_view> Request::param(std::string_view name) const {
  for (const auto& param : params_) {
    if (param.first == name) return std::string_view(param.second);
  }
  return std::nullopt;
}

std::optional<std::string_view> Request::header(std::string_view name) const {
  std::string cgi_name = "HTTP_";
  for (char c : name) {
    cgi_name += c == '-' ? '_' : (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  }
  return param(cgi_name);
}

std::string_view Request::method() const {
  return param("REQUEST_METHOD").value_or("GET");
}

std::string_view Request::path() const {
  const std::string_view path = param("PATH_INFO").value_or("");
  return path.empty() ? "/" : path;
}

std::string_view Request::script_name() const {
  return param("SCRIPT_NAME").value_or("");
}
std::string_view Request::query_string() const {
  return param("QUERY_STRING").value_or("");
}
std::string_view Request::user_agent() const {
  return param("HTTP_USER_AGENT").value_or("");
}

}  // namespace pushcgi
