// The query string of a request, parsed as application/x-www-form-urlencoded, with typed
// accessors whose refusals are one-line reasons fit for a 400 response.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "pushcgi/error.hpp"

namespace pushcgi {

class Query {
 public:
  static constexpr std::size_t kMaxBytes = 4096;
  static constexpr std::size_t kMaxParameters = 64;

  Query() = default;

  // Splits on '&', then on the first '='; '+' is a space; %XX escapes are decoded.
  // Refused: a malformed %-escape, a decoded NUL, more than kMaxBytes or kMaxParameters.
  static Parsed<Query> parse(std::string_view raw);

  // The first value given for name (a name without '=' has the empty value).
  std::optional<std::string_view> get(std::string_view name) const;
  bool has(std::string_view name) const { return get(name).has_value(); }

  // A whole number within [min, max]; fallback when the parameter is absent.
  Parsed<unsigned> get_unsigned(std::string_view name, unsigned min, unsigned max,
                                unsigned fallback) const;

  // One of choices; fallback when the parameter is absent.
  Parsed<std::string> get_choice(std::string_view name,
                                 std::initializer_list<std::string_view> choices,
                                 std::string_view fallback) const;

  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Parses a whole decimal number in [min, max] ("007" yes; "", "+1", "1.0", "1e3" no).
std::optional<unsigned long long> parse_number(std::string_view text, unsigned long long min,
                                               unsigned long long max);

}  // namespace pushcgi
