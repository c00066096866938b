// Events per second over the last two seconds (frames in, frames out), for /state.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace pushcgi {

class RateMeter {
 public:
  void add(std::uint64_t count = 1);
  double per_second() const;
  std::uint64_t total() const;

 private:
  static constexpr int kBuckets = 20;  // of 100 ms
  static std::int64_t bucket_of(std::chrono::steady_clock::time_point when);
  void advance(std::int64_t bucket) const;

  mutable std::mutex mutex_;  // guards everything below
  mutable std::array<std::uint64_t, kBuckets> counts_{};
  mutable std::int64_t newest_ = 0;  // the bucket counts_[newest_ % kBuckets] stands for
  std::uint64_t total_ = 0;
};

}  // namespace pushcgi
