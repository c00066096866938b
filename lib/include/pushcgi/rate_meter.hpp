// Events per second over the last two seconds (frames in, frames out), for /state.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>

namespace pushcgi {

// add() is called by every viewer for every frame, so it only increments an atomic counter;
// the lock is taken once per 100 ms bucket, by the first caller that sees a new bucket.
class RateMeter {
 public:
  void add(std::uint64_t count = 1);
  double per_second() const;
  std::uint64_t total() const { return total_.load(std::memory_order_relaxed); }

 private:
  static constexpr int kBuckets = 20;  // of 100 ms
  static std::int64_t bucket_of(std::chrono::steady_clock::time_point when);
  void advance(std::int64_t bucket) const;  // with mutex_ held

  std::atomic<std::uint64_t> total_{0};
  mutable std::atomic<std::int64_t> newest_{0};  // the newest bucket with its start recorded
  mutable std::mutex mutex_;                     // guards starts_ and the advance of newest_
  // starts_[b % kBuckets]: total_ when bucket b began (as first seen).
  mutable std::array<std::uint64_t, kBuckets> starts_{};
};

}  // namespace pushcgi
