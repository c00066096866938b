#include "relay_support.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace pushcgi::test {

std::vector<std::string> relay_args(const std::string& url, std::vector<std::string> more) {
  std::vector<std::string> args = {"--source", url, "--source-timeout", "2", "--linger", "1"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

std::string state_with(FcgiProgram& webcam, const std::string& text,
                       std::chrono::steady_clock::duration timeout) {
  std::string state;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while ((state = body_of(webcam.fetch("/state"))).find(text) == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return state;
}

std::function<bool(const std::string&)> camera_frame_after(unsigned long than) {
  return [than](const std::string& out) {
    const std::vector<unsigned long> numbers = camera_frames(out);
    return !numbers.empty() && numbers.back() > than;
  };
}

void expect_camera_frames(const TestCamera& camera, const std::vector<std::string>& bodies) {
  std::vector<unsigned long> numbers;
  for (const std::string& body : bodies) {
    const unsigned long n = camera_frame(body);
    ASSERT_GT(n, 0u) << "a part of " << body.size() << " bytes is not a camera frame";
    EXPECT_EQ(body, camera.frame(n)) << "camera frame " << n << " was changed";
    numbers.push_back(n);
  }
  // The same number again is webcam.fcgi's repeat of the last frame after a second of quiet
  // (the camera slowed down by a loaded machine or a sanitizer): legal, but not most of them.
  std::size_t new_frames = numbers.empty() ? 0 : 1;
  for (std::size_t k = 1; k < numbers.size(); ++k) {
    EXPECT_GE(numbers[k], numbers[k - 1]) << "camera frame " << k << " out of order";
    if (numbers[k] > numbers[k - 1]) ++new_frames;
  }
  EXPECT_GE(new_frames * 2, numbers.size()) << "webcam.fcgi repeats instead of relaying";
}

}  // namespace pushcgi::test
