// Runs a producer on its own thread once per period while a Hub has viewers, and not at
// all while it has none: the work per period does not grow with the number of viewers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>

#include "pushcgi/hub.hpp"

namespace pushcgi {

class PeriodicProducer {
 public:
  using Clock = std::chrono::steady_clock;

  // produce() makes a value and publishes it to hub. The period is the smallest one among
  // the hub's viewers, so a viewer that wants values more often speeds the producer up. A
  // first viewer after an idle spell gets a fresh value at once.
  template <typename T>
  PeriodicProducer(Hub<T>& hub, std::function<void()> produce)
      : period_([&hub] { return hub.min_period(); }),
        detach_([&hub] { hub.on_change(nullptr); }),
        produce_(std::move(produce)) {
    hub.on_change([this](unsigned) { wake(); });
    thread_ = std::thread([this] { loop(); });
  }
  ~PeriodicProducer();
  PeriodicProducer(const PeriodicProducer&) = delete;
  PeriodicProducer& operator=(const PeriodicProducer&) = delete;

  std::uint64_t runs() const;
  // CPU time this thread spent in produce().
  std::chrono::nanoseconds cpu_time() const;

 private:
  void wake();
  void loop();
  void run_once();

  std::function<Clock::duration()> period_;
  std::function<void()> detach_;
  std::function<void()> produce_;
  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  bool stop_ = false;
  std::uint64_t runs_ = 0;
  std::chrono::nanoseconds cpu_time_{0};
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace pushcgi
