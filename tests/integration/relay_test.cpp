// webcam.fcgi relaying an IP camera (--source http://...): tests/helpers/camera_server.py
// stands in for the camera, on a real socket, with its faults on request.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <thread>

#include "fcgi_program.hpp"
#include "support/http_client.hpp"
#include "test_camera.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kBrowser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101";

// Small figures keep each test short: a stalled camera is noticed in 2 s, the source stops
// 1 s after its last viewer.
std::vector<std::string> relay_args(const std::string& url, std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--source", url, "--source-timeout", "2", "--linger", "1"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// /state's body once it holds text (reading nothing else meanwhile); what it is after timeout.
std::string state_with(FcgiProgram& webcam, const std::string& text,
                       Clock::duration timeout = 10s) {
  std::string state;
  const auto deadline = Clock::now() + timeout;
  while ((state = body_of(webcam.fetch("/state"))).find(text) == std::string::npos &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  return state;
}

// For read_until: a camera frame newer than `than` has come.
auto camera_frame_after(unsigned long than) {
  return [than](const std::string& out) {
    const std::vector<unsigned long> numbers = camera_frames(out);
    return !numbers.empty() && numbers.back() > than;
  };
}

void expect_increasing(const std::vector<unsigned long>& numbers) {
  for (std::size_t k = 1; k < numbers.size(); ++k) {
    EXPECT_GT(numbers[k], numbers[k - 1]) << "camera frame " << k;
  }
}

// Every body is byte for byte the camera's frame of that number, and they come in order.
void expect_camera_frames(const TestCamera& camera, const std::vector<std::string>& bodies) {
  std::vector<unsigned long> numbers;
  for (const std::string& body : bodies) {
    const unsigned long n = camera_frame(body);
    ASSERT_GT(n, 0u) << "a part of " << body.size() << " bytes is not a camera frame";
    EXPECT_EQ(body, camera.frame(n)) << "camera frame " << n << " was changed";
    numbers.push_back(n);
  }
  expect_increasing(numbers);
}

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

TEST(Relay, ASnapshotCameraBecomesAStreamAtFps) {
  TestCamera camera({"--fps", "30"});
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
  EXPECT_NE(webcam.log().find("receiving snapshots (image/jpeg)"), std::string::npos);
  std::printf("%zu snapshots in %.2f s at --fps 5\n", bodies.size(), seconds);
}

// Credentials from the URL's user-info or from --source-netrc, for a camera that asks for
// Basic or Digest authentication.
class RelayCredentials : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(RelayCredentials, AreAccepted) {
  const auto& [scheme, where] = GetParam();
  TempDir dir;
  TestCamera camera({"--auth", scheme, "--user", "viewer", "--password", "Camera7pw"});
  std::vector<std::string> args;
  std::string url = camera.url("/video");
  if (where == "url") {
    url = camera.url("/video", "viewer:Camera7pw");
  } else {
    const std::string netrc = dir.file("netrc");
    std::ofstream(netrc) << "machine 127.0.0.1 login viewer password Camera7pw\n";
    chmod(netrc.c_str(), 0600);
    args = {"--source-netrc", netrc};
  }
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(url, args));
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(3), 10s)) << body_of(webcam.fetch("/state"));
  expect_camera_frames(camera, part_bodies(viewer.out()));
  EXPECT_EQ(json_field(body_of(webcam.fetch("/state")), "incidents"), 0);
}

TEST_P(RelayCredentials, WrongOnesShow401InState) {
  const auto& [scheme, where] = GetParam();
  TempDir dir;
  TestCamera camera({"--auth", scheme, "--user", "viewer", "--password", "Camera7pw"});
  std::vector<std::string> args;
  std::string url = camera.url("/video");
  if (where == "url") {
    url = camera.url("/video", "viewer:wrong");
  } else {
    const std::string netrc = dir.file("netrc");
    std::ofstream(netrc) << "machine 127.0.0.1 login viewer password wrong\n";
    args = {"--source-netrc", netrc};
  }
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(url, args));
  FcgiClient viewer = webcam.request("/stream");
  const std::string state =
      state_with(webcam, "\"problem\":\"upstream answered 401 (wrong or missing credentials)");
  EXPECT_NE(state.find("\"problem\":\"upstream answered 401 (wrong or missing credentials); "
                       "retry in 2 s\""),
            std::string::npos)
      << state;
  EXPECT_GE(camera.stat("auth_failures"), 1);
  EXPECT_EQ(parts_done(viewer.out()), 0u);
  EXPECT_FALSE(viewer.ended());
}

INSTANTIATE_TEST_SUITE_P(
    Camera, RelayCredentials,
    ::testing::Values(std::make_pair("basic", "url"), std::make_pair("digest", "url"),
                      std::make_pair("basic", "netrc"), std::make_pair("digest", "netrc")),
    [](const auto& param_info) { return param_info.param.first + "_" + param_info.param.second; });

TEST(Relay, NoCredentialsShow401InState) {
  TestCamera camera({"--auth", "basic", "--user", "viewer", "--password", "Camera7pw"});
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(camera.url("/video")));
  FcgiClient viewer = webcam.request("/stream");
  const std::string state = state_with(webcam, "upstream answered 401");
  EXPECT_NE(state.find("\"problem\":\"upstream answered 401 (wrong or missing credentials)"),
            std::string::npos)
      << state;
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

// The camera's password (user-info) and a secret in the query, as cheap cameras take it,
// through every route, a fault and its recovery, with the log at its most talkative.
TEST(Relay, ThePasswordAndTheQueryAppearInNoResponseAndNoLogLine) {
  TestCamera camera({"--auth", "basic", "--user", "viewer", "--password", "Secret5pw"});
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     relay_args(camera.url("/video?token=Query5tok&x=1", "viewer:Secret5pw"),
                                {"--log-level", "debug"}));
  FcgiClient viewer = webcam.request("/stream");
  FcgiClient browser = webcam.request("/stream", "", kBrowser);
  ASSERT_TRUE(viewer.read_until(has_parts(2), 10s)) << webcam.log();
  ASSERT_TRUE(browser.read_until(has_parts(2), 10s));
  ASSERT_TRUE(camera.fault("404"));
  std::string seen = state_with(webcam, "upstream answered 404");
  ASSERT_TRUE(camera.fault("none"));
  const std::vector<unsigned long> before = camera_frames(viewer.out());
  ASSERT_TRUE(viewer.read_until(camera_frame_after(before.back()), 10s));
  for (const auto& [path, query] : std::initializer_list<std::pair<const char*, const char*>>{
           {"/", ""},
           {"/", "mode=pull&interval=2"},
           {"/snapshot", ""},
           {"/state", ""},
           {"/nowhere", ""},
           {"/stream", "fps=abc"},
       }) {
    seen += webcam.fetch(path, query);
  }
  seen += viewer.out() + browser.out();
  EXPECT_NE(seen.find("\"describe\":\"" + camera.url("/video") + "\""), std::string::npos);
  const std::string log = webcam.log();
  EXPECT_NE(log.find("upstream answered 404"), std::string::npos) << log;  // the log is there
  for (const char* secret : {"Secret5pw", "Query5tok", "viewer:", "token="}) {
    EXPECT_EQ(seen.find(secret), std::string::npos) << secret;
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in\n" << log;
  }
}

TEST(Relay, HelpNamesTheUrlsAndTheirOptions) {
  const RunResult run = run_program({bin_path("webcam.fcgi"), "--help"});
  EXPECT_EQ(run.status, 0);
  for (const char* text : {"http(s)://[USER:PASSWORD@]HOST[:PORT]/PATH", "--source-netrc FILE",
                           "--source-ca FILE", "readable by this program's user only"}) {
    EXPECT_NE(run.out.find(text), std::string::npos) << text << " in\n" << run.out;
  }
}

// An https camera with its own self-signed certificate: refused as untrusted, accepted with
// --source-ca. openssl s_server -WWW stands in (it serves the file as text/plain and closes:
// a bare stream of one JPEG, which is all this needs).
TEST(Relay, HttpsCamerasAreCheckedAgainstSourceCa) {
  TempDir dir;
  const RunResult made =
      run_program({"/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                   "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", dir.file("key.pem"), "-out",
                   dir.file("cert.pem"), "-days", "2", "-subj", "/CN=127.0.0.1", "-addext",
                   "subjectAltName=IP:127.0.0.1"});
  ASSERT_EQ(made.status, 0) << made.err;
  std::ofstream(dir.file("camera.jpg"), std::ios::binary) << TestCamera::still_jpeg();
  const int port = free_port();
  SpawnOptions spawn;
  spawn.stderr_path = dir.file("s_server.log");
  spawn.own_process_group = true;
  Process server({"/bin/sh", "-c",
                  "cd " + dir.path() + " && exec /usr/bin/openssl s_server -quiet -WWW -accept " +
                      std::to_string(port) + " -cert cert.pem -key key.pem"},
                 spawn);
  ASSERT_TRUE(wait_for_port(port, 5s)) << read_file(dir.file("s_server.log"));
  const std::string url = "https://127.0.0.1:" + std::to_string(port) + "/camera.jpg";
  {
    FcgiProgram webcam("webcam.fcgi", kDefaultThreads, relay_args(url));
    FcgiClient viewer = webcam.request("/stream");
    const std::string state = state_with(webcam, "TLS: ");
    EXPECT_NE(state.find("\"problem\":\"TLS: certificate not trusted; retry in 2 s\""),
              std::string::npos)
        << state;
  }
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     relay_args(url, {"--source-ca", dir.file("cert.pem")}));
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(1), 10s)) << body_of(webcam.fetch("/state"));
  EXPECT_EQ(part_bodies(viewer.out()).at(0), TestCamera::still_jpeg());
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
