#include "runtime/proc_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <vector>

#include "runtime/unique_fd.hpp"

namespace pushcgi::detail {

namespace {

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

}  // namespace

std::optional<std::string> read_proc_file(const std::string& path) {
  const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
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
                  to_number(fields[20], stat.vsize) && to_number(fields[21], stat.rss_pages);
  if (!ok) return std::nullopt;
  return stat;
}

std::int64_t read_boot_time(const std::string& proc_root) {
  const auto text = read_proc_file(proc_root + "/stat");
  if (!text) return 0;
  const std::size_t at = text->find("\nbtime ");
  if (at == std::string::npos) return 0;
  return std::atoll(text->c_str() + at + 7);
}

}  // namespace pushcgi::detail
