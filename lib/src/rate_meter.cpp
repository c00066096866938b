#include "pushcgi/rate_meter.hpp"

namespace pushcgi {

std::int64_t RateMeter::bucket_of(std::chrono::steady_clock::time_point when) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count() /
         100;
}

void RateMeter::advance(std::int64_t bucket) const {
  if (bucket - newest_ >= kBuckets) {
    counts_.fill(0);
  } else {
    for (std::int64_t b = newest_ + 1; b <= bucket; ++b)
      counts_[static_cast<std::size_t>(b % kBuckets)] = 0;
  }
  if (bucket > newest_) newest_ = bucket;
}

void RateMeter::add(std::uint64_t count) {
  const std::int64_t bucket = bucket_of(std::chrono::steady_clock::now());
  const std::lock_guard<std::mutex> lock(mutex_);
  advance(bucket);
  counts_[static_cast<std::size_t>(bucket % kBuckets)] += count;
  total_ += count;
}

double RateMeter::per_second() const {
  const std::int64_t bucket = bucket_of(std::chrono::steady_clock::now());
  const std::lock_guard<std::mutex> lock(mutex_);
  advance(bucket);
  std::uint64_t sum = 0;
  // The current bucket is still filling: count the 19 whole ones before it.
  for (std::int64_t b = bucket - kBuckets + 1; b < bucket; ++b) {
    sum += counts_[static_cast<std::size_t>(((b % kBuckets) + kBuckets) % kBuckets)];
  }
  return static_cast<double>(sum) / ((kBuckets - 1) * 0.1);
}

std::uint64_t RateMeter::total() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return total_;
}

}  // namespace pushcgi
