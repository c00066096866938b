#include "pushcgi/rate_meter.hpp"

namespace pushcgi {

std::int64_t RateMeter::bucket_of(std::chrono::steady_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() /
         100;
}

void RateMeter::advance(std::int64_t bucket) const {
  const std::int64_t newest = newest_.load(std::memory_order_relaxed);
  if (bucket <= newest) return;
  const std::uint64_t total = total_.load(std::memory_order_relaxed);
  const std::int64_t first = bucket - newest >= kBuckets ? bucket - kBuckets + 1 : newest + 1;
  for (std::int64_t b = first; b <= bucket; ++b)
    starts_[static_cast<std::size_t>(b % kBuckets)] = total;
  newest_.store(bucket, std::memory_order_release);
}

void RateMeter::add(std::uint64_t count) {
  const std::int64_t bucket = bucket_of(std::chrono::steady_clock::now());
  if (bucket > newest_.load(std::memory_order_acquire)) {
    const std::lock_guard<std::mutex> lock(mutex_);
    advance(bucket);
  }
  total_.fetch_add(count, std::memory_order_relaxed);
}

double RateMeter::per_second() const {
  const std::int64_t bucket = bucket_of(std::chrono::steady_clock::now());
  const std::lock_guard<std::mutex> lock(mutex_);
  advance(bucket);
  // The current bucket is still filling: count the 19 whole ones before it.
  const std::uint64_t now = starts_[static_cast<std::size_t>(bucket % kBuckets)];
  const std::uint64_t then = starts_[static_cast<std::size_t>((bucket + 1) % kBuckets)];
  return static_cast<double>(now - then) / ((kBuckets - 1) * 0.1);
}

}  // namespace pushcgi
