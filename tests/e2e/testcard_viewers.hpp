// What many viewers of one testcard camera got, checked together (the Redis fan-out and the
// relay chain): each viewer's parts are whole JPEGs numbered 1 to what the camera made, never
// going back (the same number again is the repeat after a quiet second), and a number is the
// same bytes whoever got it, through whichever server (passed on, never encoded again).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace pushcgi::test {

class TestcardViewers {
 public:
  explicit TestcardViewers(long made) : made_(made) {}

  // One viewer's part bodies (GoogleTest failures, fatal for a part that is no testcard
  // frame: call it in ASSERT_NO_FATAL_FAILURE). advances: the parts that moved forward.
  void check(const std::vector<std::string>& bodies, std::size_t& advances);
  // The different frames among all viewers checked so far.
  std::size_t distinct() const { return frames_.size(); }

 private:
  const long made_;
  std::map<long, std::string> frames_;
};

}  // namespace pushcgi::test
