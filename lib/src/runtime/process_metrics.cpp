#include "runtime/process_metrics.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include "pushcgi/metrics_text.hpp"
#include "runtime/proc_files.hpp"

namespace pushcgi::detail {

namespace {

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
  // All zero if /proc cannot be read.
  const ProcStat self =
      parse_proc_stat(read_proc_file("/proc/self/stat").value_or("")).value_or(ProcStat{});
  const double ticks = static_cast<double>(sysconf(_SC_CLK_TCK));
  const double page = static_cast<double>(sysconf(_SC_PAGESIZE));
  metrics
      .family("process_cpu_seconds_total", MetricType::counter,
              "User and system CPU time spent in seconds.")
      .sample(static_cast<double>(self.utime + self.stime) / ticks);
  metrics
      .family("process_resident_memory_bytes", MetricType::gauge, "Resident memory size in bytes.")
      .sample(static_cast<double>(self.rss_pages) * page);
  metrics.family("process_virtual_memory_bytes", MetricType::gauge, "Virtual memory size in bytes.")
      .sample(static_cast<double>(self.vsize));
  metrics
      .family("process_start_time_seconds", MetricType::gauge,
              "Start time of the process since unix epoch in seconds.")
      .sample(static_cast<double>(read_boot_time("/proc")) +
              static_cast<double>(self.starttime) / ticks);
  metrics.family("process_open_fds", MetricType::gauge, "Number of open file descriptors.")
      .sample(open_descriptors());
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) == 0) {
    metrics.family("process_max_fds", MetricType::gauge, "Maximum number of open file descriptors.")
        .sample(static_cast<std::uint64_t>(limit.rlim_cur));
  }
}

}  // namespace pushcgi::detail
