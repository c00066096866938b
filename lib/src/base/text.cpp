#include "pushcgi/text.hpp"

#include <algorithm>

namespace pushcgi {

namespace {

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

}  // namespace

namespace {

// A URL's user-info and query, which may hold a password (http://user:pw@cam/,
// ?user=admin&pwd=...), replaced by "***": a value meant for one option can end up quoted in
// another's error (--fps http://admin:pw@cam/video).
std::string without_secrets(std::string_view text) {
  const std::size_t scheme_end = text.find("://");
  if (scheme_end == std::string_view::npos) return std::string(text);
  const std::size_t host = scheme_end + 3;
  const std::size_t authority_end = std::min(text.find_first_of("/?#", host), text.size());
  std::string out(text.substr(0, host));
  const std::size_t at = text.substr(0, authority_end).rfind('@');
  out += at != std::string_view::npos && at >= host ? "***@" : "";
  const std::size_t rest = at != std::string_view::npos && at >= host ? at + 1 : host;
  const std::size_t query = text.find('?', rest);
  out += text.substr(rest, query - rest);
  if (query != std::string_view::npos) out += "?***";
  return out;
}

}  // namespace

std::string quote_input(std::string_view text) {
  const std::string shown = without_secrets(text);
  std::string out;
  for (char c : std::string_view(shown).substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (shown.size() > 40) out += "...";
  return "'" + out + "'";
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + text.size() / 8);
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

}  // namespace pushcgi
