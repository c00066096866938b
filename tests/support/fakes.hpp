// In-memory stand-ins for unit tests.
#pragma once

#include <deque>

#include "pushcgi/wait.hpp"

namespace pushcgi::test {

// Returns the scripted wakes in order, then Wake::deadline; never blocks.
class ScriptedWaiter : public Waiter {
 public:
  ScriptedWaiter(std::initializer_list<Wake> wakes = {}) : wakes_(wakes) {}
  using Waiter::wait_until;
  Wake wait_until(std::chrono::steady_clock::time_point, int) override {
    ++calls_;
    if (wakes_.empty()) return Wake::deadline;
    const Wake wake = wakes_.front();
    wakes_.pop_front();
    return wake;
  }
  int calls() const { return calls_; }

 private:
  std::deque<Wake> wakes_;
  int calls_ = 0;
};

}  // namespace pushcgi::test
