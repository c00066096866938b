#include "pushcgi/log.hpp"

#include <gtest/gtest.h>

namespace pushcgi {
namespace {

using namespace std::chrono_literals;

TEST(LogThrottle, OneLinePerIntervalThenTheCountLeftOut) {
  LogThrottle throttle("dropped frames", 10s);
  const auto start = LogThrottle::Clock::time_point{} + 1h;
  EXPECT_EQ(throttle.admit("dropped a frame: a", start), "dropped a frame: a");
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(throttle.admit("dropped a frame: b", start + 9s));
  }
  EXPECT_EQ(throttle.admit("dropped a frame: c", start + 10s),
            "dropped a frame: c (dropped frames since the last line: 1000 more)");
  EXPECT_FALSE(throttle.take_left_out());  // the line just logged had the count
  EXPECT_EQ(throttle.admit("dropped a frame: d", start + 30s), "dropped a frame: d");
}

TEST(LogThrottle, WhatWasLeftOutIsCountedAndCanBeLoggedWhenTheEventsStop) {
  LogThrottle throttle("dropped frames", 10s);
  const auto start = LogThrottle::Clock::time_point{} + 1h;
  ASSERT_TRUE(throttle.admit("dropped a frame: a", start));
  EXPECT_FALSE(throttle.admit("dropped a frame: a", start + 1s));
  EXPECT_FALSE(throttle.admit("dropped 500 frames, the last: a", start + 2s, 500));
  EXPECT_EQ(throttle.take_left_out(), "dropped frames since the last line: 501 more, not logged");
  EXPECT_FALSE(throttle.take_left_out());
  // The interval still runs from the last line logged.
  EXPECT_FALSE(throttle.admit("dropped a frame: a", start + 3s));
  EXPECT_EQ(throttle.admit("dropped a frame: b", start + 10s),
            "dropped a frame: b (dropped frames since the last line: 1 more)");
}

}  // namespace
}  // namespace pushcgi
