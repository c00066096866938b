// The programs behind real web servers, with the shipped configurations.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <thread>

#include "pushcgi/jpeg.hpp"
#include "stack.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Parts completed in a length-framed response: each "X-Timestamp" part whose tail arrived.
std::vector<std::pair<double, std::size_t>> parts_of(const std::string& response) {
  std::vector<std::pair<double, std::size_t>> parts;  // X-Timestamp, offset of the part's end
  const std::string boundary = boundary_of(response);
  if (boundary.empty()) return parts;
  for (std::size_t at = response.find("X-Timestamp: "); at != std::string::npos;
       at = response.find("X-Timestamp: ", at + 1)) {
    const std::size_t length_at = response.rfind("Content-Length: ", at);
    const std::size_t head_end = response.find("\r\n\r\n", at);
    if (head_end == std::string::npos || length_at == std::string::npos) break;
    const std::size_t end = head_end + 4 + std::stoul(response.substr(length_at + 16));
    if (end + 4 + boundary.size() > response.size() ||
        response.compare(end, 4 + boundary.size(), "\r\n--" + boundary) != 0) {
      break;
    }
    parts.emplace_back(std::stod(response.substr(at + 13)), end + 4 + boundary.size());
  }
  return parts;
}

double wall_seconds(std::chrono::system_clock::time_point when) {
  return std::chrono::duration<double>(when.time_since_epoch()).count();
}

class ServerTest : public ::testing::TestWithParam<std::string> {};

TEST_P(ServerTest, PsPushPartsArriveAsProduced) {
  Stack stack(GetParam());
  ASSERT_TRUE(stack.ready()) << stack.log();
  HttpClient viewer;
  ASSERT_TRUE(viewer.get(stack.port(), "/ps/push?interval=1&top=3"));
  ASSERT_TRUE(viewer.read_until([](const std::string& r) { return parts_of(r).size() >= 3; }, 15s))
      << viewer.response() << stack.log();
  EXPECT_EQ(viewer.status(), 200);
  EXPECT_NE(viewer.response().find("Content-Type: multipart/x-mixed-replace; boundary="),
            std::string::npos);
  const auto parts = parts_of(viewer.response());
  for (std::size_t k = 0; k < parts.size(); ++k) {
    // Not held back by the web server: each part arrives as it is made (a gross bound; the
    // benchmarks measure the latency).
    const auto* arrival = viewer.arrival_of(parts[k].second - 1);
    EXPECT_LT(wall_seconds(arrival->wall) - parts[k].first, 0.5) << "part " << k;
    if (k > 0) {
      EXPECT_GT(arrival->steady - viewer.arrival_of(parts[k - 1].second - 1)->steady, 500ms);
    }
  }
}

TEST_P(ServerTest, WebcamStreamArrivesAsProducedAndFfmpegReadsIt) {
  Stack stack(GetParam());
  ASSERT_TRUE(stack.ready()) << stack.log();
  HttpClient viewer;
  ASSERT_TRUE(viewer.get(stack.port(), "/webcam/stream"));
  ASSERT_TRUE(viewer.read_until([](const std::string& r) { return parts_of(r).size() >= 10; }, 15s))
      << stack.log();
  for (const auto& [stamp, end] : parts_of(viewer.response())) {
    EXPECT_LT(wall_seconds(viewer.arrival_of(end - 1)->wall) - stamp, 0.5);
  }
  viewer.close();

  // An independent check of the multipart framing: ffmpeg's mpjpeg demuxer.
  TempDir out;
  const RunResult ffmpeg =
      run_program({"/usr/bin/ffmpeg", "-nostdin", "-loglevel", "error", "-f", "mpjpeg", "-i",
                   "http://127.0.0.1:" + std::to_string(stack.port()) + "/webcam/stream",
                   "-frames:v", "5", "-c", "copy", out.file("frame%02d.jpg")},
                  30s);
  EXPECT_EQ(ffmpeg.status, 0) << ffmpeg.err;
  for (int i = 1; i <= 5; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "frame%02d.jpg", i);
    const auto info = inspect_jpeg(read_file(out.file(name)));
    ASSERT_TRUE(info) << name;
    EXPECT_EQ(info->width, 640);
  }
}

TEST_P(ServerTest, ClosingTheBrowserSideFreesTheStream) {
  Stack stack(GetParam());
  ASSERT_TRUE(stack.ready()) << stack.log();
  // nginx closes the FastCGI connection as soon as the browser leaves, even while the
  // stream is idle; Apache notices only when a write to the browser fails (the first write
  // after the close still succeeds; the one after it fails), so there the streams send a part
  // every second and the bound is two of those intervals, plus the time to pass it on.
  const bool nginx = GetParam() == "nginx";
  const auto bound = nginx ? Clock::duration(100ms) : Clock::duration(2500ms);
  for (const std::string program : {"/ps", "/webcam"}) {
    const std::string target = program == "/webcam" ? "/webcam/stream?fps=1"
                               : nginx              ? "/ps/push?interval=30"
                                                    : "/ps/push?interval=1";
    const std::string ended =
        (program == "/ps" ? "GET /push" : "GET /stream") + std::string(": stream ended after ");
    const std::size_t ended_before = stack.log_lines(ended);
    HttpClient viewer;
    ASSERT_TRUE(viewer.get(stack.port(), target));
    ASSERT_TRUE(viewer.read_until([](const std::string& r) { return !parts_of(r).empty(); }, 15s));
    if (stack.shared_program()) {
      ASSERT_TRUE(stack.wait_open_streams(program, 1, 5s)) << stack.log();
    }
    viewer.close();
    const auto closed = Clock::now();
    if (stack.shared_program()) {
      const auto freed = stack.wait_open_streams(program, 0, 10s);
      ASSERT_TRUE(freed) << program << stack.log();
      EXPECT_LT(*freed, bound) << program;
    } else {
      // A process of its own per viewer: its log line says when its stream ended.
      while (stack.log_lines(ended) == ended_before && Clock::now() - closed < 10s) {
        std::this_thread::sleep_for(2ms);
      }
      EXPECT_LT(Clock::now() - closed, bound) << program << stack.log();
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, ServerTest, ::testing::ValuesIn(kServers),
                         [](const auto& param_info) { return server_test_name(param_info.param); });

// nginx cuts a FastCGI response that is quiet for 60 s (fastcgi_read_timeout), Apache for
// its Timeout (60 s compiled in) and mod_fcgid after 40 s (FcgidIOTimeout): a /ps/push
// stream with a 65 s interval must survive all of them with the shipped configurations.
// All four servers at once, so the minute is spent once. The same minute, a viewer that
// never reads is ended by the web server's send timeout (60 s), and the program frees its
// stream (where one program serves everybody, so that /state can tell).
TEST(IdleStreams, SurviveTheServersDefaultTimeouts) {
  const std::vector<std::string>& servers = kServers;
  std::vector<std::unique_ptr<Stack>> stacks;
  for (const std::string& server : servers) {
    stacks.push_back(std::make_unique<Stack>(server));
    ASSERT_TRUE(stacks.back()->ready()) << server << stacks.back()->log();
  }
  std::vector<int> never_reading;
  for (const auto& stack : stacks) {
    if (!stack->shared_program()) continue;
    never_reading.push_back(request_without_reading(stack->port(), "/webcam/stream"));
    ASSERT_GE(never_reading.back(), 0);
    ASSERT_TRUE(stack->wait_open_streams("/webcam", 1, 10s)) << stack->server();
  }
  std::vector<HttpClient> viewers(servers.size());
  // Not vector<bool>: its elements share words, and each thread writes its own.
  std::vector<char> survived(servers.size(), 0);
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < servers.size(); ++i) {
    ASSERT_TRUE(viewers[i].get(stacks[i]->port(), "/ps/push?interval=65&top=1"));
    readers.emplace_back([&, i] {
      survived[i] =
          viewers[i].read_until([](const std::string& r) { return parts_of(r).size() >= 2; }, 90s);
    });
  }
  for (std::thread& reader : readers) reader.join();
  for (std::size_t i = 0; i < servers.size(); ++i) {
    EXPECT_TRUE(survived[i]) << servers[i] << ": " << viewers[i].response().substr(0, 300)
                             << stacks[i]->log();
    EXPECT_EQ(viewers[i].status(), 200) << servers[i];
  }
  for (const auto& stack : stacks) {
    if (!stack->shared_program()) continue;
    EXPECT_TRUE(stack->wait_open_streams("/webcam", 0, 30s))
        << stack->server() << ": the never-reading viewer's stream is still open "
        << stack->get("/webcam/state");
  }
  for (const int fd : never_reading) close(fd);
}

}  // namespace
}  // namespace pushcgi::test
