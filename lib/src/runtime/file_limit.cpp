#include "file_limit.hpp"

#include <atomic>

namespace pushcgi::detail {

namespace {

// Set once, before any source thread starts; read when a program is started.
std::atomic<bool> raised{false};
rlimit started_with{};

}  // namespace

rlimit raise_file_limit() {
  rlimit files{};
  if (getrlimit(RLIMIT_NOFILE, &files) != 0) return files;
  if (!raised.load()) {  // the first call; the store below publishes started_with
    started_with = files;
    raised.store(true);
  }
  if (files.rlim_cur < files.rlim_max) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  return files;
}

rlimit inherited_file_limit() {
  if (raised.load()) return started_with;
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  return files;
}

}  // namespace pushcgi::detail
