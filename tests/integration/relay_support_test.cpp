// The checks the relay tests share (relay_support.hpp), on bodies made up here: they must let
// through what webcam.fcgi may legally send and nothing else.
#include "relay_support.hpp"

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

namespace pushcgi::test {
namespace {

// How many failures expect_camera_frames reports for the frames of these numbers.
int failures_for(const TestCamera& camera, const std::vector<unsigned long>& numbers) {
  std::vector<std::string> bodies;
  for (const unsigned long n : numbers) bodies.push_back(camera.frame(n));
  ::testing::TestPartResultArray results;
  {
    const ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    expect_camera_frames(camera, bodies);
  }
  return results.size();
}

// webcam.fcgi repeats its last frame after a second of quiet (a camera slowed down by a
// loaded machine): the same number again passes, an older one or mostly repeats do not.
TEST(RelaySupport, ExpectCameraFramesAllowsTheIdleRepeatOnly) {
  const TestCamera camera;
  EXPECT_EQ(failures_for(camera, {3, 4, 5, 6}), 0);
  EXPECT_EQ(failures_for(camera, {3, 4, 4, 5}), 0);
  EXPECT_EQ(failures_for(camera, {3, 3, 4}), 0);
  EXPECT_GT(failures_for(camera, {3, 5, 4, 6}), 0);     // out of order
  EXPECT_GT(failures_for(camera, {3, 3, 3, 3, 4}), 0);  // mostly repeats
}

}  // namespace
}  // namespace pushcgi::test
