#include "process_table.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "runtime/unique_fd.hpp"

namespace pushcgi {

namespace {

// Reads a small /proc file whole; nothing if it is gone.
std::optional<std::string> read_small_file(const std::string& path) {
  const detail::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return std::nullopt;
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) return std::nullopt;  // ESRCH: the process exited while being read
    if (n == 0) return text;
    text.append(buffer, static_cast<std::size_t>(n));
    if (text.size() > (1 << 20)) return text;
  }
}

// Splits on single spaces; the fields of /proc/PID/stat after comm.
std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> fields;
  while (!text.empty()) {
    const std::size_t space = text.find(' ');
    if (space != 0) fields.push_back(text.substr(0, space));
    if (space == std::string_view::npos) break;
    text.remove_prefix(space + 1);
  }
  return fields;
}

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

// "btime N" from /proc/stat: boot time in Unix seconds.
std::int64_t read_boot_time(const std::string& root) {
  const auto text = read_small_file(root + "/stat");
  if (!text) return 0;
  const std::size_t at = text->find("\nbtime ");
  if (at == std::string::npos) return 0;
  return std::atoll(text->c_str() + at + 7);
}

double read_uptime(const std::string& root) {
  const auto text = read_small_file(root + "/uptime");
  return text ? std::atof(text->c_str()) : 0.0;
}

}  // namespace

std::optional<ProcStat> parse_proc_stat(std::string_view text) {
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
    return std::nullopt;
  }
  ProcStat stat;
  std::string_view pid_text = text.substr(0, open);
  while (!pid_text.empty() && pid_text.back() == ' ') pid_text.remove_suffix(1);
  if (!to_number(pid_text, stat.pid)) return std::nullopt;
  stat.comm = std::string(text.substr(open + 1, close - open - 1));
  // Fields from 3 (state) on; proc(5) numbers them from 1.
  const std::vector<std::string_view> fields = split_spaces(text.substr(close + 1));
  if (fields.size() < 22 || fields[0].size() != 1) return std::nullopt;
  stat.state = fields[0][0];
  const bool ok = to_number(fields[1], stat.ppid) && to_number(fields[11], stat.utime) &&
                  to_number(fields[12], stat.stime) && to_number(fields[19], stat.starttime) &&
                  to_number(fields[21], stat.rss_pages);
  if (!ok) return std::nullopt;
  return stat;
}

std::optional<unsigned> parse_status_uid(std::string_view text) {
  const std::size_t at = text.find("\nUid:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 5);
  while (!rest.empty() && (rest.front() == '\t' || rest.front() == ' ')) rest.remove_prefix(1);
  const std::size_t end = rest.find_first_of("\t \n");
  unsigned uid = 0;
  if (!to_number(rest.substr(0, end), uid)) return std::nullopt;
  return uid;
}

std::string cmdline_to_args(std::string_view raw) {
  while (!raw.empty() && raw.back() == '\0') raw.remove_suffix(1);
  std::string args(raw);
  for (char& c : args) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return args;
}

std::vector<const ProcessInfo*> select_processes(const ProcessSnapshot& snapshot, ProcessSort sort,
                                                 std::size_t top) {
  std::vector<const ProcessInfo*> rows;
  rows.reserve(snapshot.processes.size());
  for (const ProcessInfo& process : snapshot.processes) rows.push_back(&process);
  const auto by = [sort](const ProcessInfo* a, const ProcessInfo* b) {
    if (sort == ProcessSort::cpu && a->cpu_percent != b->cpu_percent) {
      return a->cpu_percent > b->cpu_percent;
    }
    if (sort == ProcessSort::rss && a->rss_bytes != b->rss_bytes)
      return a->rss_bytes > b->rss_bytes;
    return a->pid < b->pid;
  };
  if (top > 0 && top < rows.size()) {
    std::partial_sort(rows.begin(), rows.begin() + static_cast<std::ptrdiff_t>(top), rows.end(),
                      by);
    rows.resize(top);
  } else {
    std::sort(rows.begin(), rows.end(), by);
  }
  return rows;
}

ProcessTable::ProcessTable(std::string proc_root, bool show_args)
    : root_(std::move(proc_root)),
      show_args_(show_args),
      ticks_per_second_(sysconf(_SC_CLK_TCK)),
      page_size_(sysconf(_SC_PAGESIZE)) {}

ProcessSnapshot ProcessTable::take() {
  ProcessSnapshot snapshot;
  snapshot.taken = std::chrono::system_clock::now();
  if (boot_time_ == 0) boot_time_ = read_boot_time(root_);
  const double uptime = read_uptime(root_);
  snapshot.interval_seconds = previous_uptime_ > 0 ? uptime - previous_uptime_ : 0;

  current_.clear();
  DIR* dir = opendir(root_.c_str());
  if (dir == nullptr) return snapshot;
  while (const dirent* entry = readdir(dir)) {
    int pid = 0;
    if (!to_number(std::string_view(entry->d_name), pid) || pid <= 0) continue;
    if (auto process = read_process(pid, uptime)) snapshot.processes.push_back(std::move(*process));
  }
  closedir(dir);
  std::sort(snapshot.processes.begin(), snapshot.processes.end(),
            [](const ProcessInfo& a, const ProcessInfo& b) { return a.pid < b.pid; });
  previous_.swap(current_);
  previous_uptime_ = uptime;
  return snapshot;
}

std::optional<ProcessInfo> ProcessTable::read_process(int pid, double uptime) {
  const std::string dir = root_ + "/" + std::to_string(pid);
  const auto stat_text = read_small_file(dir + "/stat");
  if (!stat_text) return std::nullopt;  // gone already
  const auto stat = parse_proc_stat(*stat_text);
  const auto status_text = read_small_file(dir + "/status");
  if (!stat || !status_text) return std::nullopt;
  const auto uid = parse_status_uid(*status_text);
  if (!uid) return std::nullopt;

  ProcessInfo info;
  info.pid = stat->pid;
  info.ppid = stat->ppid;
  info.state = stat->state;
  info.name = stat->comm;
  info.user = user_name(*uid);
  info.rss_bytes = static_cast<std::uint64_t>(std::max<std::int64_t>(stat->rss_pages, 0)) *
                   static_cast<std::uint64_t>(page_size_);
  const double tps = static_cast<double>(ticks_per_second_);
  info.start_time =
      boot_time_ + static_cast<std::int64_t>(static_cast<double>(stat->starttime) / tps);

  const std::uint64_t ticks = stat->utime + stat->stime;
  const auto before = previous_.find(pid);
  double window = 0;
  std::uint64_t used = ticks;
  if (before != previous_.end() && before->second.starttime == stat->starttime &&
      ticks >= before->second.ticks) {
    used = ticks - before->second.ticks;
    window = uptime - previous_uptime_;
  } else {
    window = uptime - static_cast<double>(stat->starttime) / tps;  // over its life, as ps does
  }
  info.cpu_percent = window > 0 ? 100.0 * static_cast<double>(used) / tps / window : 0.0;
  current_[pid] = Previous{ticks, stat->starttime};

  if (show_args_) {
    const auto cmdline = read_small_file(dir + "/cmdline");
    info.args = cmdline ? cmdline_to_args(*cmdline) : std::string();
  }
  return info;
}

const std::string& ProcessTable::user_name(unsigned uid) {
  const auto found = users_.find(uid);
  if (found != users_.end()) return found->second;
  std::string name = std::to_string(uid);
  passwd entry{};
  passwd* result = nullptr;
  char buffer[4096];
  if (getpwuid_r(uid, &entry, buffer, sizeof buffer, &result) == 0 && result != nullptr) {
    name = result->pw_name;
  }
  return users_.emplace(uid, std::move(name)).first->second;
}

}  // namespace pushcgi
