#include "pushcgi/periodic_producer.hpp"

#include "base/cpu_clock.hpp"

namespace pushcgi {

namespace {

std::chrono::nanoseconds thread_cpu_time() {
  return detail::cpu_clock_time(CLOCK_THREAD_CPUTIME_ID).value_or(std::chrono::nanoseconds(0));
}

}  // namespace

PeriodicProducer::~PeriodicProducer() {
  detach_();
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

std::uint64_t PeriodicProducer::runs() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return runs_;
}

std::chrono::nanoseconds PeriodicProducer::cpu_time() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return cpu_time_;
}

void PeriodicProducer::wake() {
  { const std::lock_guard<std::mutex> lock(mutex_); }  // orders the wake after a waiter's check
  changed_.notify_all();
}

void PeriodicProducer::loop() {
  std::unique_lock<std::mutex> lock(mutex_);
  Clock::time_point last_tick;
  bool ran = false;
  while (!stop_) {
    const Clock::duration period = period_();
    if (period == Clock::duration::max()) {  // nobody watches: no work at all
      changed_.wait(lock);
      continue;
    }
    const Clock::time_point now = Clock::now();
    Clock::time_point due = ran ? last_tick + period : now;
    if (now - due > period) due = now;  // after an idle spell: start afresh, do not catch up
    if (now < due) {
      changed_.wait_until(lock, due);
      continue;
    }
    last_tick = due;  // by deadline: the schedule does not drift by the work's duration
    ran = true;
    lock.unlock();
    run_once();
    lock.lock();
  }
}

void PeriodicProducer::run_once() {
  const auto start = thread_cpu_time();
  produce_();
  const auto spent = thread_cpu_time() - start;
  const std::lock_guard<std::mutex> lock(mutex_);
  runs_ += 1;
  cpu_time_ += spent;
}

}  // namespace pushcgi
