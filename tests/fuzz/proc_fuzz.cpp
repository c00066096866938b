// The /proc parsers on any text: /proc/PID/stat (a comm may hold spaces and parentheses),
// the Uid line of /proc/PID/status, and /proc/PID/cmdline turned into one printable line.
#include <cstdint>
#include <string>
#include <string_view>

#include "check.hpp"
#include "process_table.hpp"
#include "runtime/proc_files.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  if (const auto stat = pushcgi::detail::parse_proc_stat(text)) {
    // comm runs from the first '(' to the last ')'.
    const std::size_t open = text.find('(');
    const std::size_t close = text.rfind(')');
    FUZZ_CHECK(open != std::string_view::npos && close != std::string_view::npos);
    FUZZ_CHECK(stat->comm == text.substr(open + 1, close - open - 1));
  }
  pushcgi::parse_status_uid(text);
  const std::string args = pushcgi::cmdline_to_args(text);
  for (const char c : args) FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
  return 0;
}
