#include "support/figures.hpp"

#include <dirent.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iterator>
#include <sstream>
#include <thread>

#include "support/process.hpp"

namespace pushcgi::test {

double wall_seconds_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

double cpu_seconds_of(pid_t pid) {
  const std::string line = read_file("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::vector<std::string> fields;
  std::string field;
  while (rest >> field) fields.push_back(field);
  if (fields.size() < 13) return 0;
  return (std::stod(fields[11]) + std::stod(fields[12])) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

double self_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) +
         static_cast<double>(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6;
}

long status_field(pid_t pid, const std::string& name) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  const std::size_t at = status.find("\n" + name + ":");
  return at == std::string::npos ? 0 : std::atol(status.c_str() + at + name.size() + 2);
}

long rss_kib(pid_t pid) {
  return status_field(pid, "VmRSS");
}

long threads_of(pid_t pid) {
  return status_field(pid, "Threads");
}

long open_fds(pid_t pid) {
  DIR* dir = opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
  if (dir == nullptr) return -1;
  long count = 0;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

std::vector<pid_t> child_pids(pid_t pid, const std::string& text) {
  std::vector<pid_t> pids;
  DIR* proc = opendir("/proc");
  while (const dirent* entry = readdir(proc)) {
    const std::string dir = std::string("/proc/") + entry->d_name;
    const std::string stat = read_file(dir + "/stat");
    const std::size_t close = stat.rfind(')');
    if (close == std::string::npos) continue;
    if (std::atoi(stat.c_str() + close + 4) == pid &&
        read_file(dir + "/cmdline").find(text) != std::string::npos) {
      pids.push_back(static_cast<pid_t>(std::atoi(entry->d_name)));
    }
  }
  closedir(proc);
  return pids;
}

namespace {

struct ProcStat {
  pid_t pid = 0;
  pid_t parent = 0;
  char state = '?';
  std::string name;
};

// Every process in /proc, from its stat line ("PID (COMM) STATE PPID ...").
std::vector<ProcStat> all_processes() {
  std::vector<ProcStat> all;
  DIR* proc = opendir("/proc");
  while (const dirent* entry = readdir(proc)) {
    const std::string stat = read_file(std::string("/proc/") + entry->d_name + "/stat");
    const std::size_t open = stat.find('(');
    const std::size_t close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos || close + 4 > stat.size())
      continue;
    all.push_back({static_cast<pid_t>(std::atoi(stat.c_str())),
                   static_cast<pid_t>(std::atoi(stat.c_str() + close + 4)), stat[close + 2],
                   stat.substr(open + 1, close - open - 1)});
  }
  closedir(proc);
  return all;
}

}  // namespace

std::vector<pid_t> descendants_named(pid_t pid, const std::string& name) {
  const std::vector<ProcStat> all = all_processes();
  std::vector<pid_t> below = {pid};
  std::vector<pid_t> found;
  for (std::size_t k = 0; k < below.size(); ++k) {
    for (const ProcStat& process : all) {
      if (process.parent != below[k]) continue;
      below.push_back(process.pid);
      if (process.name == name && process.state != 'Z') found.push_back(process.pid);
    }
  }
  return found;
}

std::vector<pid_t> processes_with(const std::string& text) {
  std::vector<pid_t> found;
  for (const ProcStat& process : all_processes()) {
    if (process.state != 'Z' &&
        read_file("/proc/" + std::to_string(process.pid) + "/cmdline").find(text) !=
            std::string::npos) {
      found.push_back(process.pid);
    }
  }
  return found;
}

bool eventually(const std::function<bool()>& condition,
                std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return true;
}

bool is_alive(pid_t pid) {
  const std::string stat = read_file("/proc/" + std::to_string(pid) + "/stat");
  const std::size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

std::vector<pid_t> alive_after(const std::vector<pid_t>& pids,
                               std::chrono::steady_clock::duration timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<pid_t> alive;
    std::copy_if(pids.begin(), pids.end(), std::back_inserter(alive), is_alive);
    if (alive.empty() || std::chrono::steady_clock::now() >= deadline) return alive;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

long json_field(const std::string& text, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = text.find(key);
  return at == std::string::npos ? -1 : std::atol(text.c_str() + at + key.size());
}

double json_double(const std::string& text, const std::string& name) {
  const std::string key = "\"" + name + "\":";
  const std::size_t at = text.find(key);
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + key.size());
}

double quantile(std::vector<double> values, double q) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
}

std::string boundary_of(const std::string& response) {
  const std::string key = "boundary=";
  const std::size_t start = response.find(key);
  if (start == std::string::npos) return "";
  return response.substr(start + key.size(), response.find("\r\n", start) - start - key.size());
}

std::size_t body_start(const std::string& out) {
  const std::size_t end = out.find("\r\n\r\n");
  return end == std::string::npos ? end : end + 4;
}

std::size_t end_of_part(const std::string& out, std::size_t n) {
  const std::string b = boundary_of(out);
  std::size_t at = body_start(out);
  if (b.empty() || at == std::string::npos) return std::string::npos;
  const std::string delimiter = "\r\n--" + b + "\r\n";
  for (std::size_t i = 0; i < n; ++i) {
    at = out.find(delimiter, at);
    if (at == std::string::npos) return at;
    at += delimiter.size();
  }
  return at;
}

std::size_t parts_done(const std::string& out) {
  std::size_t n = 0;
  while (end_of_part(out, n + 1) != std::string::npos) ++n;
  return n;
}

std::string body_of(const std::string& response) {
  const std::size_t at = body_start(response);
  return at == std::string::npos ? "" : response.substr(at);
}

std::vector<std::string> part_bodies(const std::string& out) {
  std::vector<std::string> bodies;
  const std::string b = boundary_of(out);
  for (std::size_t k = 1; k <= parts_done(out); ++k) {
    const std::size_t start = k == 1 ? body_start(out) + b.size() + 4 : end_of_part(out, k - 1);
    const std::size_t head_end = out.find("\r\n\r\n", start) + 4;
    const std::size_t at = out.find("Content-Length: ", start);
    if (at == std::string::npos || at > head_end) break;
    bodies.push_back(out.substr(head_end, std::stoul(out.substr(at + 16))));
  }
  return bodies;
}

std::vector<unsigned long> frame_numbers(const std::string& out) {
  std::vector<unsigned long> numbers;
  for (std::size_t at = out.find("\r\nX-Frame: "); at != std::string::npos;
       at = out.find("\r\nX-Frame: ", at + 1)) {
    numbers.push_back(std::stoul(out.substr(at + 11)));
  }
  return numbers;
}

}  // namespace pushcgi::test
