#include "pushcgi/query.hpp"

#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes one name or value; false on a malformed escape or a NUL.
bool form_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      c = ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int high = hex_value(in[i + 1]);
      const int low = hex_value(in[i + 2]);
      if (high < 0 || low < 0) return false;
      c = static_cast<char>(high * 16 + low);
      i += 2;
    }
    if (c == '\0') return false;
    out += c;
  }
  return true;
}

}  // namespace

std::optional<unsigned long long> parse_number(std::string_view text, unsigned long long min,
                                               unsigned long long max) {
  if (text.empty() || text.size() > 19) return std::nullopt;
  unsigned long long value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + static_cast<unsigned>(c - '0');
  }
  if (value < min || value > max) return std::nullopt;
  return value;
}

Parsed<Query> Query::parse(std::string_view raw) {
  if (raw.size() > kMaxBytes) {
    return Parsed<Query>::failure("query string longer than " + std::to_string(kMaxBytes) +
                                  " bytes");
  }
  Query query;
  std::string name;
  std::string value;
  while (!raw.empty()) {
    const std::size_t amp = raw.find('&');
    const std::string_view pair = raw.substr(0, amp);
    raw = amp == std::string_view::npos ? std::string_view() : raw.substr(amp + 1);
    if (pair.empty()) continue;
    const std::size_t eq = pair.find('=');
    const std::string_view raw_name = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    if (!form_decode(raw_name, name) || !form_decode(raw_value, value)) {
      return Parsed<Query>::failure("malformed query parameter " + quote_input(pair));
    }
    if (query.items_.size() == kMaxParameters) {
      return Parsed<Query>::failure("more than " + std::to_string(kMaxParameters) +
                                    " query parameters");
    }
    query.items_.emplace_back(name, value);
  }
  return query;
}

std::optional<std::string_view> Query::get(std::string_view name) const {
  for (const auto& item : items_) {
    if (item.first == name) return std::string_view(item.second);
  }
  return std::nullopt;
}

Parsed<unsigned> Query::get_unsigned(std::string_view name, unsigned min, unsigned max,
                                     unsigned fallback) const {
  const std::optional<std::string_view> text = get(name);
  if (!text) return fallback;
  const auto value = parse_number(*text, min, max);
  if (!value) {
    return Parsed<unsigned>::failure(std::string(name) + ": expected a whole number from " +
                                     std::to_string(min) + " to " + std::to_string(max) + ", got " +
                                     quote_input(*text));
  }
  return static_cast<unsigned>(*value);
}

Parsed<std::string> Query::get_choice(std::string_view name,
                                      std::initializer_list<std::string_view> choices,
                                      std::string_view fallback) const {
  const std::optional<std::string_view> text = get(name);
  if (!text) return std::string(fallback);
  std::string expected;
  for (std::string_view choice : choices) {
    if (*text == choice) return std::string(choice);
    expected += expected.empty() ? "" : "|";
    expected += choice;
  }
  return Parsed<std::string>::failure(std::string(name) + ": expected " + expected + ", got " +
                                      quote_input(*text));
}

}  // namespace pushcgi
