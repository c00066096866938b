// The query parser (Query::parse, get_unsigned, get_choice, parse_number) on any bytes: it
// refuses with a one-line reason or gives parameters within its bounds, never a NUL.
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "pushcgi/query.hpp"

using pushcgi::Query;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view raw(reinterpret_cast<const char*>(data), size);
  const pushcgi::Parsed<Query> query = Query::parse(raw);
  if (!query) {
    FUZZ_CHECK(!query.error().empty());
    FUZZ_CHECK(query.error().find('\n') == std::string::npos);
  } else {
    FUZZ_CHECK(raw.size() <= Query::kMaxBytes);
    FUZZ_CHECK(query->items().size() <= Query::kMaxParameters);
    for (const auto& [name, value] : query->items()) {
      FUZZ_CHECK(name.find('\0') == std::string::npos);
      FUZZ_CHECK(value.find('\0') == std::string::npos);
      FUZZ_CHECK(name.size() <= raw.size() && value.size() <= raw.size());
    }
    const auto interval = query->get_unsigned("interval", 1, 3600, 5);
    if (interval) FUZZ_CHECK(*interval >= 1 && *interval <= 3600);
    if (!interval) FUZZ_CHECK(interval.error().find('\n') == std::string::npos);
    const auto sort = query->get_choice("sort", {"pid", "cpu", "rss"}, "pid");
    if (sort) FUZZ_CHECK(*sort == "pid" || *sort == "cpu" || *sort == "rss");
  }
  // A number is digits only, and the value they spell.
  const auto number = pushcgi::parse_number(raw, 0, 1000000);
  if (number) {
    FUZZ_CHECK(!raw.empty() && raw.find_first_not_of("0123456789") == std::string_view::npos);
    FUZZ_CHECK(*number <= 1000000);
    FUZZ_CHECK(std::stoull(std::string(raw)) == *number);
  }
  return 0;
}
