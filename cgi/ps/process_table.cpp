#include "process_table.hpp"

#include <dirent.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>

#include "runtime/proc_files.hpp"

namespace pushcgi {

namespace {

double read_uptime(const std::string& root) {
  const auto text = detail::read_proc_file(root + "/uptime");
  return text ? std::atof(text->c_str()) : 0.0;
}

}  // namespace

std::optional<unsigned> parse_status_uid(std::string_view text) {
  const std::size_t at = text.find("\nUid:");
  if (at == std::string_view::npos) return std::nullopt;
  std::string_view rest = text.substr(at + 5);
  while (!rest.empty() && (rest.front() == '\t' || rest.front() == ' ')) rest.remove_prefix(1);
  const std::size_t end = rest.find_first_of("\t \n");
  unsigned uid = 0;
  if (!detail::to_number(rest.substr(0, end), uid)) return std::nullopt;
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
  if (boot_time_ == 0) boot_time_ = detail::read_boot_time(root_);
  const double uptime = read_uptime(root_);
  snapshot.interval_seconds = previous_uptime_ > 0 ? uptime - previous_uptime_ : 0;

  current_.clear();
  DIR* dir = opendir(root_.c_str());
  if (dir == nullptr) return snapshot;
  while (const dirent* entry = readdir(dir)) {
    int pid = 0;
    if (!detail::to_number(std::string_view(entry->d_name), pid) || pid <= 0) continue;
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
  const auto stat_text = detail::read_proc_file(dir + "/stat");
  if (!stat_text) return std::nullopt;  // gone already
  const auto stat = detail::parse_proc_stat(*stat_text);
  const auto status_text = detail::read_proc_file(dir + "/status");
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
    const auto cmdline = detail::read_proc_file(dir + "/cmdline");
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
