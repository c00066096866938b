#include "close_descriptors.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc_dir.hpp"

namespace pushcgi::detail {

namespace {

// One pass over /proc/self/fd: how many descriptors it closed, or -1 if reading failed.
int close_listed_once(int dir, int first) {
  int closed = 0;
  const bool read = for_each_numbered_entry(dir, [&](int fd, const char*) {
    if (fd >= first && fd != dir) {
      ::close(fd);
      ++closed;
    }
  });
  return read ? closed : -1;
}

}  // namespace

bool close_listed_descriptors_from(int first) {
  const int dir = ::open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return false;
  // Closing entries while the directory is read may make it skip some: read it again until
  // a pass finds nothing left to close (as glibc's closefrom() fallback does).
  int closed = 0;
  do {
    closed = close_listed_once(dir, first);
  } while (closed > 0);
  ::close(dir);
  return closed == 0;
}

bool close_numbered_descriptors_from(int first) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  // A descriptor at or above the soft limit exists only if the limit was lowered after it
  // was opened, which pushcgi never does (Server::raise_file_limit only raises it). Up to a
  // million close() calls at worst, about 0.1 s, and only where /proc is missing.
  const rlim_t end = limit.rlim_cur == RLIM_INFINITY ? rlim_t{1} << 20 : limit.rlim_cur;
  for (rlim_t fd = static_cast<rlim_t>(first); fd < end; ++fd) ::close(static_cast<int>(fd));
  return true;
}

bool close_descriptors_from(int first) {
  if (syscall(SYS_close_range, static_cast<unsigned>(first), ~0U, 0U) == 0) return true;
  return close_listed_descriptors_from(first) || close_numbered_descriptors_from(first);
}

}  // namespace pushcgi::detail
