#include "testcard_viewers.hpp"

#include <gtest/gtest.h>

#include "support/testcard_frames.hpp"

namespace pushcgi::test {

void TestcardViewers::check(const std::vector<std::string>& bodies, std::size_t& advances) {
  advances = 0;
  long previous = 0;
  for (const std::string& body : bodies) {
    ASSERT_TRUE(whole_jpeg(body));
    const long number = testcard_number(body);
    ASSERT_GE(number, 1);
    EXPECT_LE(number, made_) << "a number the camera has not made";
    // The same number again is a repeat after a second of quiet (the camera slowed down, as
    // under a sanitizer); never an older one.
    EXPECT_GE(number, previous) << "out of order";
    if (number > previous) ++advances;
    previous = number;
    const auto [known, fresh] = frames_.emplace(number, body);
    if (!fresh) {
      EXPECT_TRUE(known->second == body) << "frame " << number << " differs between viewers";
    }
  }
}

}  // namespace pushcgi::test
