#include "runtime/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "pushcgi/metrics_text.hpp"

namespace pushcgi::detail {

namespace {

// /proc/self/stat's fields after the command (which may hold spaces and parentheses):
// field 3 (state) first.
std::vector<std::string> stat_fields() {
  std::ifstream file("/proc/self/stat");
  std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  const std::size_t end = text.rfind(')');
  std::vector<std::string> fields;
  if (end == std::string::npos) return fields;
  std::istringstream rest(text.substr(end + 1));
  for (std::string field; rest >> field;) fields.push_back(field);
  return fields;
}

double field(const std::vector<std::string>& fields, std::size_t number) {
  const std::size_t index = number - 3;
  return index < fields.size() ? std::stod(fields[index]) : 0;
}

double boot_time() {
  std::ifstream file("/proc/stat");
  for (std::string line; std::getline(file, line);) {
    if (line.rfind("btime ", 0) == 0) return std::stod(line.substr(6));
  }
  return 0;
}

unsigned open_descriptors() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  unsigned count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count > 0 ? count - 1 : 0;  // not the one reading the directory
}

}  // namespace

void write_process_metrics(MetricsText& metrics) {
  const std::vector<std::string> fields = stat_fields();
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  metrics
      .family("process_cpu_seconds_total", MetricType::counter,
              "User and system CPU time spent in seconds.")
      .sample((field(fields, 14) + field(fields, 15)) / ticks);
  metrics
      .family("process_resident_memory_bytes", MetricType::gauge, "Resident memory size in bytes.")
      .sample(field(fields, 24) * page);
  metrics.family("process_virtual_memory_bytes", MetricType::gauge, "Virtual memory size in bytes.")
      .sample(field(fields, 23));
  metrics
      .family("process_start_time_seconds", MetricType::gauge,
              "Start time of the process since unix epoch in seconds.")
      .sample(boot_time() + field(fields, 22) / ticks);
  metrics.family("process_open_fds", MetricType::gauge, "Number of open file descriptors.")
      .sample(open_descriptors());
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    metrics.family("process_max_fds", MetricType::gauge, "Maximum number of open file descriptors.")
        .sample(static_cast<std::uint64_t>(limit.rlim_cur));
  }
}

}  // namespace pushcgi::detail
