// A process list read from /proc, with no ps child and no shell: what `ps -el` shows, taken
// by one producer and shared by every viewer.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace pushcgi {

struct ProcessInfo {
  int pid = 0;
  int ppid = 0;
  std::string user;        // name, or the numeric uid if it has none
  char state = '?';        // R, S, D, Z, T, I, ...
  double cpu_percent = 0;  // over the last interval (the first time: over its life)
  std::uint64_t rss_bytes = 0;
  std::int64_t start_time = 0;  // Unix seconds
  std::string name;             // the command name (comm); never its arguments
  std::string args;             // the command line, only when asked for: it can hold passwords
};

struct ProcessSnapshot {
  std::vector<ProcessInfo> processes;  // in pid order
  std::chrono::system_clock::time_point taken;
  double interval_seconds = 0;  // the %CPU window; 0 for the first snapshot
};

enum class ProcessSort { pid, cpu, rss };

// The rows to show: sorted by pid (ascending) or by %CPU or RSS (descending, then pid), at
// most top of them (0: all).
std::vector<const ProcessInfo*> select_processes(const ProcessSnapshot& snapshot, ProcessSort sort,
                                                 std::size_t top);

// The real uid from /proc/PID/status ("Uid:\t1000\t1000\t...").
std::optional<unsigned> parse_status_uid(std::string_view text);
// /proc/PID/cmdline (NUL-separated) as one line; control characters become spaces.
std::string cmdline_to_args(std::string_view raw);

class ProcessTable {
 public:
  // proc_root is /proc, or a fixture tree of the same shape in tests.
  explicit ProcessTable(std::string proc_root = "/proc", bool show_args = false);

  // Reads every process. A process that exits while it is read is left out. Not for
  // concurrent use: one producer calls it.
  ProcessSnapshot take();

 private:
  struct Previous {
    std::uint64_t ticks;
    std::uint64_t starttime;  // tells a reused pid apart
  };

  std::optional<ProcessInfo> read_process(int pid, double uptime);
  const std::string& user_name(unsigned uid);

  std::string root_;
  bool show_args_;
  long ticks_per_second_;
  long page_size_;
  std::int64_t boot_time_ = 0;
  double previous_uptime_ = 0;
  std::unordered_map<int, Previous> previous_;
  std::unordered_map<int, Previous> current_;
  std::unordered_map<unsigned, std::string> users_;
};

}  // namespace pushcgi
