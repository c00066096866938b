// Reading Linux's /proc as proc(5) describes it: a process's stat line and the boot time,
// for ps.fcgi's process table and every program's process_* figures in /metrics.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pushcgi::detail {

// Reads a small /proc file whole (at most about 1 MiB); nothing if it is gone.
std::optional<std::string> read_proc_file(const std::string& path);

// A decimal integer, with a '-' for a signed T, and nothing else.
template <typename T>
bool to_number(std::string_view text, T& out) {
  if (text.empty() || text.size() > 20) return false;
  bool negative = false;
  if (text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
    if (text.empty()) return false;
  }
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = negative ? static_cast<T>(-static_cast<std::int64_t>(value)) : static_cast<T>(value);
  return true;
}

// The fields of /proc/PID/stat that pushcgi uses.
struct ProcStat {
  int pid = 0;
  std::string comm;
  char state = '?';
  int ppid = 0;
  std::uint64_t utime = 0;  // clock ticks
  std::uint64_t stime = 0;
  std::uint64_t starttime = 0;  // clock ticks after boot
  std::uint64_t vsize = 0;      // bytes
  std::int64_t rss_pages = 0;
};

// comm is in parentheses and may hold spaces and parentheses itself, so it runs to the last
// ')'. Nothing for text that does not have the fields.
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// "btime N" of PROC_ROOT/stat: the boot time in Unix seconds; 0 if it cannot be read.
std::int64_t read_boot_time(const std::string& proc_root);

}  // namespace pushcgi::detail
