// The option parser on any argument vector (the input split at NUL bytes): it runs, shows
// help, or refuses with one line; a value it accepts is within its bounds.
#include <cstdint>
#include <string>
#include <vector>

#include "check.hpp"
#include "pushcgi/options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::string> args = {"fuzz.fcgi"};
  std::string current;
  for (std::size_t i = 0; i < size && args.size() < 32; ++i) {
    if (data[i] == 0) {
      args.push_back(current);
      current.clear();
    } else {
      current += static_cast<char>(data[i]);
    }
  }
  if (!current.empty()) args.push_back(current);
  std::vector<const char*> argv;
  for (const std::string& arg : args) argv.push_back(arg.c_str());
  argv.push_back(nullptr);

  bool flag = false;
  unsigned number = 7;
  std::string text = "default";
  std::string value;
  pushcgi::Options options("fuzz.fcgi", "A harness.");
  options.add_flag("show-args", "a flag", flag);
  options.add_number("threads", "N", "a number", number, 1, 10000);
  options.add_text("source", "SPEC", "a text", text);
  options.add_value("size", "WxH", "checked by a function", [&](std::string_view given) {
    if (given.empty() || given.size() > 9) return std::string("expected 1 to 9 characters");
    value = std::string(given);
    return std::string();
  });
  std::vector<std::string> skips;
  options.add_optional_value("skip-unchanged", "NAME", "an optional value",
                             [&](std::optional<std::string_view> given) {
                               if (given && given->empty()) return std::string("expected a name");
                               skips.emplace_back(given.value_or("(all)"));
                               return std::string();
                             });
  const auto result = options.parse(static_cast<int>(args.size()), argv.data());
  switch (result.outcome) {
    case pushcgi::Options::Outcome::error:
      FUZZ_CHECK(!result.message.empty());
      FUZZ_CHECK(result.message.find('\n') == std::string::npos);
      break;
    case pushcgi::Options::Outcome::run:
      FUZZ_CHECK(number >= 1 && number <= 10000);
      FUZZ_CHECK(!text.empty());
      FUZZ_CHECK(value.size() <= 9);
      for (const std::string& skip : skips) FUZZ_CHECK(!skip.empty());
      break;
    case pushcgi::Options::Outcome::help:
      break;
  }
  return 0;
}
