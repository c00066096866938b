// Helpers of the relay tests: webcam.fcgi with --source http://... in front of a TestCamera.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "fcgi_program.hpp"
#include "test_camera.hpp"

namespace pushcgi::test {

constexpr const char* kBrowser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101";

// webcam.fcgi's arguments to relay url, then more. Small figures keep each test short: a
// stalled camera is noticed in 2 s, the source stops 1 s after its last viewer.
std::vector<std::string> relay_args(const std::string& url, std::vector<std::string> more = {});

// /state's body once it holds text (reading nothing else meanwhile); what it is after timeout.
std::string state_with(FcgiProgram& webcam, const std::string& text,
                       std::chrono::steady_clock::duration timeout = std::chrono::seconds(10));

// For read_until: a camera frame newer than `than` has come.
std::function<bool(const std::string&)> camera_frame_after(unsigned long than);

// Every body is byte for byte the camera's frame of its number, they come in order (the same
// one again is webcam.fcgi's repeat after a second of quiet) and at least half are new.
void expect_camera_frames(const TestCamera& camera, const std::vector<std::string>& bodies);

}  // namespace pushcgi::test
