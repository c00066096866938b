#include "frame_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "runtime/unique_fd.hpp"

namespace pushcgi::detail {

namespace {

std::string too_large(const std::string& path) {
  return path + " is larger than --max-frame-kib";
}

// Reads to the end, but never more than max_bytes + 1: the file may grow after fstat().
Parsed<std::string> read_all(int fd, const std::string& path, std::size_t expected,
                             std::size_t max_bytes) {
  std::string data(expected + 1, '\0');
  std::size_t size = 0;
  for (;;) {
    if (size == data.size()) data.resize(std::min(data.size() * 2, max_bytes + 1));
    if (size > max_bytes) return Parsed<std::string>::failure(too_large(path));
    const ssize_t n = ::read(fd, data.data() + size, data.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      return Parsed<std::string>::failure("cannot read " + path + ": " + std::strerror(errno));
    }
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  data.resize(size);
  return data;
}

}  // namespace

Parsed<std::string> read_frame_file(const std::string& path, std::size_t max_bytes) {
  using Result = Parsed<std::string>;
  // O_PATH opens nothing: a device's driver is never asked (opening one can rewind a tape or
  // arm a watchdog), a FIFO never waits for a writer. Only a regular file is then opened
  // for reading, through that very descriptor, so it cannot be swapped in between.
  const UniqueFd where(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!where) return Result::failure("cannot open " + path + ": " + std::strerror(errno));
  struct stat info {};
  if (::fstat(where.get(), &info) != 0) {
    return Result::failure("cannot stat " + path + ": " + std::strerror(errno));
  }
  if (!S_ISREG(info.st_mode)) return Result::failure(path + " is not a regular file");
  const auto size = static_cast<std::size_t>(info.st_size);
  if (size > max_bytes) return Result::failure(too_large(path));
  const std::string reopen = "/proc/self/fd/" + std::to_string(where.get());
  // O_NONBLOCK and O_NOCTTY: should /proc not be what it seems, still never wait or take a
  // terminal.
  const UniqueFd fd(::open(reopen.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return Result::failure("cannot open " + path + ": " + std::strerror(errno));
  Result data = read_all(fd.get(), path, size, max_bytes);
  if (data && data->empty()) return Result::failure(path + " is empty");
  return data;
}

}  // namespace pushcgi::detail
