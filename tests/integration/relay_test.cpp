// webcam.fcgi relaying an IP camera (--source http://...): tests/helpers/camera_server.py
// stands in for the camera, on a real socket: the frames, the faults, the connections.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "relay_support.hpp"
#include "support/http_client.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Length and browser framing, from a camera whose parts have a Content-Length and from one
// whose parts have none and whose boundary is odd.
struct Framing {
  const char* name;
  const char* user_agent;
  std::vector<std::string> camera_args;
};

class RelayFraming : public ::testing::TestWithParam<Framing> {};

TEST_P(RelayFraming, MjpegFramesPassByteForByte) {
  const Framing& framing = GetParam();
  TestCamera camera(framing.camera_args);
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(camera.url("/video")));
  FcgiClient viewer = webcam.request("/stream", "", framing.user_agent);
  ASSERT_TRUE(viewer.read_until(has_parts(12), 10s)) << webcam.log();
  const std::string& out = viewer.out();
  const bool browser = std::string(framing.user_agent) == kBrowser;
  const std::vector<std::string> bodies = browser ? browser_bodies(out) : part_bodies(out);
  ASSERT_GE(bodies.size(), 10u);
  expect_camera_frames(camera, bodies);
  EXPECT_EQ(camera.stat("streams_open"), 1);
  const std::string state = body_of(webcam.fetch("/state"));
  EXPECT_NE(state.find("\"describe\":\"" + camera.url("/video") + "\""), std::string::npos)
      << state;
  EXPECT_EQ(json_field(state, "frames_dropped"), 0) << state;
}

INSTANTIATE_TEST_SUITE_P(Camera, RelayFraming,
                         ::testing::Values(Framing{"length", "curl/7.88.1", {}},
                                           Framing{"browser", kBrowser, {}},
                                           Framing{"no_part_lengths",
                                                   "curl/7.88.1",
                                                   {"--no-length", "--boundary=--frame"}}),
                         [](const auto& param_info) { return std::string(param_info.param.name); });

// A snapshot camera polled at --fps 5 on one kept-alive connection, whatever the
// Content-Type of its JPEG: a whole JPEG and the end of the response is a snapshot.
void expect_snapshots_at_fps(const std::string& content_type) {
  TestCamera camera({"--fps", "30", "--snapshot-type", content_type});
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     relay_args(camera.url("/snapshot.jpg"), {"--fps", "5"}));
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(1), 10s)) << webcam.log();
  const auto start = Clock::now();
  viewer.read_until([](const std::string&) { return false; }, 3s);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const std::vector<std::string> bodies = part_bodies(viewer.out());
  expect_camera_frames(camera, bodies);
  // 5 a second (the first came before the 3 s), not the camera's 30.
  EXPECT_GE(bodies.size(), 1 + static_cast<std::size_t>(seconds * 5) - 2) << seconds << " s";
  EXPECT_LE(bodies.size(), 1 + static_cast<std::size_t>(seconds * 5) + 2) << seconds << " s";
  EXPECT_EQ(camera.stat("streams_total"), 0);
  EXPECT_EQ(camera.stat("connections_total"), 1) << "not kept alive";
  EXPECT_GE(camera.stat("snapshots_total"), static_cast<long>(bodies.size()));
  EXPECT_EQ(json_field(body_of(webcam.fetch("/state")), "incidents"), 0) << webcam.log();
  std::printf("%s: %zu snapshots in %.2f s at --fps 5\n", content_type.c_str(), bodies.size(),
              seconds);
}

TEST(Relay, ASnapshotCameraBecomesAStreamAtFps) {
  expect_snapshots_at_fps("image/jpeg");
}

// Cheap cameras call their snapshot application/octet-stream or text/plain.
TEST(Relay, ASnapshotOfAnotherContentTypeIsStillASnapshot) {
  expect_snapshots_at_fps("application/octet-stream");
  expect_snapshots_at_fps("text/plain");
}

// A snapshot camera that stops answering on the kept-alive connection: it did not answer,
// which is no failure to connect.
TEST(Relay, ASnapshotCameraThatStopsAnsweringIsToldSo) {
  TestCamera camera;
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     relay_args(camera.url("/snapshot.jpg"), {"--fps", "5"}));
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(2), 10s)) << webcam.log();
  ASSERT_TRUE(camera.fault("silent"));
  const std::string state = state_with(webcam, "retry in");
  EXPECT_NE(state.find("\"problem\":\"upstream did not answer in 2 s; retry in "),
            std::string::npos)
      << state;
  EXPECT_EQ(webcam.log().find("cannot connect"), std::string::npos) << webcam.log();
  // The silent connection, and perhaps the retry's (2 s later) on a slow machine: not one per
  // snapshot.
  EXPECT_LE(camera.stat("connections_total"), 2);
}

// A bare MJPEG stream (no multipart type) that then ends after each frame has failed: it is
// retried with backoff and counted, not taken for a snapshot camera and asked again at
// --fps as if all were well.
TEST(Relay, ABareStreamThatEndsAfterOneFrameIsAFailureNotASnapshot) {
  TestCamera camera({"--bare"});
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     relay_args(camera.url("/video"), {"--fps", "15"}));
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(3), 10s)) << webcam.log();
  expect_camera_frames(camera, part_bodies(viewer.out()));
  ASSERT_TRUE(camera.fault("one_frame"));
  const std::string state = state_with(webcam, "retry in");
  EXPECT_NE(state.find("\"problem\":\"upstream closed the connection; retry in "),
            std::string::npos)
      << state;
  EXPECT_GE(json_field(state, "incidents"), 1) << state;
  // With backoff (1 s, then 2 s ...): a handful of connections in 3 s, not one per 1/15 s.
  std::this_thread::sleep_for(3s);
  EXPECT_LE(camera.stat("streams_total"), 6);
}

// A stream whose answer opens with 400 KB of headers.
TEST(Relay, TooMuchHeaderIsToldInWords) {
  TestCamera camera;
  ASSERT_TRUE(camera.fault("big_header"));
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(camera.url("/video")));
  FcgiClient viewer = webcam.request("/stream");
  const std::string state = state_with(webcam, "retry in");
  EXPECT_NE(state.find("\"problem\":\"upstream sent too much header; retry in "), std::string::npos)
      << state;
}

// A system-wide proxy in the environment is not used for the cameras (here it would refuse
// every connection).
TEST(Relay, TheEnvironmentsProxyIsIgnored) {
  TestCamera camera;
  const std::string proxy = "http://127.0.0.1:" + std::to_string(free_port());
  FcgiLaunch launch;
  launch.env =
      std::vector<std::string>{"PATH=/usr/bin:/bin", "http_proxy=" + proxy, "https_proxy=" + proxy,
                               "ALL_PROXY=" + proxy, "all_proxy=" + proxy};
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(camera.url("/video")), launch);
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(3), 10s)) << body_of(webcam.fetch("/state"));
  expect_camera_frames(camera, part_bodies(viewer.out()));
}

// Each fault of the camera while a viewer watches: the viewer keeps its connection and gets
// the last frame again (the repeat after a second of quiet) during the outage, /state says
// why, and the frames come again once the fault is cleared.
class RelayFault : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(RelayFault, ViewersKeepTheLastFrameAndResume) {
  const auto& [fault, words] = GetParam();
  TestCamera camera;
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(camera.url("/video")));
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(3), 10s)) << webcam.log();
  ASSERT_TRUE(camera.fault(fault));
  const auto faulted = Clock::now();

  // The outage: /state names the reason (in the status, or as the last incident).
  std::string state;
  while ((state = body_of(webcam.fetch("/state"))).find(words) == std::string::npos &&
         Clock::now() - faulted < 10s) {
    viewer.read_until([](const std::string&) { return false; }, 100ms);
  }
  EXPECT_NE(state.find(words), std::string::npos) << state;
  EXPECT_GE(json_field(state, "incidents"), 1) << state;
  // Long enough without a camera frame for the repeat of the last one.
  viewer.read_until([](const std::string&) { return false; }, 1200ms);
  const std::vector<unsigned long> during = frame_numbers(viewer.out());

  // The recovery, on the same connection.
  ASSERT_TRUE(camera.fault("none"));
  const std::vector<unsigned long> seen = camera_frames(viewer.out());
  ASSERT_FALSE(seen.empty());
  ASSERT_TRUE(viewer.read_until(camera_frame_after(seen.back()), 10s))
      << body_of(webcam.fetch("/state"));
  std::printf("%s: frames again %.1f s after the fault\n", fault.c_str(),
              std::chrono::duration<double>(Clock::now() - faulted).count());
  EXPECT_FALSE(viewer.ended());
  std::size_t repeats = 0;
  for (std::size_t k = 1; k < during.size(); ++k) repeats += during[k] == during[k - 1];
  EXPECT_GE(repeats, 1u) << "the last frame was not repeated during the outage";
  // Relayed frames never go backwards (repeats aside).
  const std::vector<unsigned long> numbers = camera_frames(viewer.out());
  for (std::size_t k = 1; k < numbers.size(); ++k) EXPECT_GE(numbers[k], numbers[k - 1]);
  state = body_of(webcam.fetch("/state"));
  // Well again: no status (a frame cut short by a drop stays the problem, as SourceRunner
  // shows the last dropped frame's reason when the source has nothing to say).
  EXPECT_EQ(state.find("retry in"), std::string::npos) << state;
  EXPECT_NE(state.find("\"running\":true"), std::string::npos) << state;
  EXPECT_NE(state.find(words), std::string::npos) << "the last incident: " << state;
}

INSTANTIATE_TEST_SUITE_P(
    Camera, RelayFault,
    ::testing::Values(std::make_pair("drop", "upstream closed the connection"),
                      std::make_pair("stall", "no whole frame for 2 s"),
                      std::make_pair("401", "upstream answered 401 (wrong or missing credentials)"),
                      std::make_pair("404", "upstream answered 404"),
                      std::make_pair("garbage", "no whole frame for 2 s")),
    [](const auto& param_info) {
      return param_info.param.first[0] >= '0' && param_info.param.first[0] <= '9'
                 ? "status" + param_info.param.first
                 : param_info.param.first;
    });

// A changed boundary is no fault at all for the splitter, which finds the JPEGs whatever
// lies between them: the frames go on, nothing is counted.
TEST(Relay, ABoundaryChangeGoesUnnoticed) {
  TestCamera camera;
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(camera.url("/video")));
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(3), 10s)) << webcam.log();
  ASSERT_TRUE(camera.fault("boundary"));
  const std::size_t before = part_bodies(viewer.out()).size();
  ASSERT_TRUE(viewer.read_until(has_parts(before + 10), 5s));
  const std::vector<std::string> bodies = part_bodies(viewer.out());
  expect_camera_frames(camera, bodies);
  const std::string state = body_of(webcam.fetch("/state"));
  EXPECT_EQ(json_field(state, "incidents"), 0) << state;
  EXPECT_EQ(json_field(state, "frames_dropped"), 0) << state;
  EXPECT_EQ(camera.stat("streams_total"), 1);
}

TEST(Relay, ConnectionRefusedIsToldInWords) {
  const int port = free_port();  // nobody listens there
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     relay_args("http://127.0.0.1:" + std::to_string(port) + "/video"));
  FcgiClient viewer = webcam.request("/stream");
  const std::string state = state_with(webcam, "cannot connect");
  EXPECT_NE(state.find("\"problem\":\"cannot connect: connection refused; retry in 2 s\""),
            std::string::npos)
      << state;
  EXPECT_NE(webcam.log().find("cannot connect: connection refused"), std::string::npos);
}

// One connection to the camera whatever the number of viewers, closed --linger after the
// last one leaves.
TEST(Relay, OneUpstreamConnectionForTwentyViewers) {
  TestCamera camera;
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(camera.url("/video")));
  std::vector<FcgiClient> viewers;
  for (int i = 0; i < 20; ++i) viewers.push_back(webcam.request("/stream"));
  for (FcgiClient& viewer : viewers) {
    ASSERT_TRUE(viewer.read_until(has_parts(2), 10s));
  }
  EXPECT_EQ(camera.stat("streams_open"), 1);
  EXPECT_EQ(camera.stat("streams_total"), 1);
  EXPECT_EQ(json_field(body_of(webcam.fetch("/state")), "open_streams"), 20);
  for (FcgiClient& viewer : viewers) viewer.close();
  const auto left = Clock::now();
  while (camera.stat("streams_open") != 0 && Clock::now() - left < 10s) {
    std::this_thread::sleep_for(20ms);
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - left).count();
  EXPECT_EQ(camera.stat("streams_open"), 0);
  EXPECT_GE(seconds, 0.9) << "closed before --linger 1";
  EXPECT_LT(seconds, 3.0);
  std::printf("the camera's stream closed %.2f s after the last viewer left (--linger 1)\n",
              seconds);
}

}  // namespace
}  // namespace pushcgi::test
