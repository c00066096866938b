// A CPU-time clock read as a duration: the calling thread's (CLOCK_THREAD_CPUTIME_ID) or
// another thread's (pthread_getcpuclockid).
#pragma once

#include <time.h>

#include <chrono>
#include <optional>

namespace pushcgi::detail {

// Nothing if the clock cannot be read (the thread it belongs to has ended).
inline std::optional<std::chrono::nanoseconds> cpu_clock_time(clockid_t clock) {
  timespec spent{};
  if (clock_gettime(clock, &spent) != 0) return std::nullopt;
  return std::chrono::seconds(spent.tv_sec) + std::chrono::nanoseconds(spent.tv_nsec);
}

}  // namespace pushcgi::detail
