// How long a source waits before it tries again after a failure (an exec: child that exited,
// a camera that cannot be reached): 2 s after the first failure, doubling to 30 s, so that a
// camera that keeps failing at once is not hammered; back to 1 s after a run that went well.
#pragma once

#include <algorithm>
#include <chrono>

namespace pushcgi::detail {

class Backoff {
 public:
  // A run that lasted this long (or, for a camera, delivered frames this long) went well.
  static constexpr std::chrono::seconds kHealthyRun{10};

  // The wait after a run that ended; healthy: it went well (see kHealthyRun).
  std::chrono::seconds next(bool healthy) {
    delay_ = healthy ? kFirst : std::min(delay_ * 2, kLongest);
    return delay_;
  }
  // A success that is not a run (a camera's snapshot): the next failure waits 2 s again.
  void reset() { delay_ = kFirst; }

 private:
  static constexpr std::chrono::seconds kFirst{1};
  static constexpr std::chrono::seconds kLongest{30};
  std::chrono::seconds delay_ = kFirst;
};

}  // namespace pushcgi::detail
