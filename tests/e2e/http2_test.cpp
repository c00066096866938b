// HTTP/2 between the client and the web server: the shipped pushcgi-h2-site.conf (nginx) and
// pushcgi-h2.conf (Apache), served by tools/dev-stack on PUSHCGI_TLS_PORT. Server push of
// the snapshots the pages preload, checked with nghttp (Debian's nghttp2-client, the one
// client here that still takes pushes), and streams over HTTP/2 through every setup.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>

#include "stack.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

// What `nghttp -v` printed: the paths it asked for, and those the server promised to push.
struct Http2Exchange {
  std::vector<std::string> requested;
  std::vector<std::string> promised;
  std::size_t push_promises = 0;  // PUSH_PROMISE frames
  std::string text;
};

// nghttp -v prints a request as "send HEADERS frame" and its header lines below it, and a
// promise as its request's header lines ("recv (stream_id=N) :path: P") before the
// "recv PUSH_PROMISE frame" line.
Http2Exchange nghttp(const std::vector<std::string>& options, const std::string& url) {
  std::vector<std::string> argv = {"/usr/bin/nghttp", "-v"};
  argv.insert(argv.end(), options.begin(), options.end());
  argv.push_back(url);
  Http2Exchange exchange;
  exchange.text = run_program(argv, 20s).out;
  std::istringstream lines(exchange.text);
  bool in_request = false;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("send HEADERS frame") != std::string::npos) in_request = true;
    if (line.find("] recv ") != std::string::npos) in_request = false;
    if (line.find("recv PUSH_PROMISE frame") != std::string::npos) ++exchange.push_promises;
    const std::size_t path = line.find(":path: ");
    if (path == std::string::npos) continue;
    const std::string value = line.substr(path + 7);
    if (line.find("] recv (stream_id=") != std::string::npos) {
      exchange.promised.push_back(value);
    } else if (in_request) {
      exchange.requested.push_back(value);
    }
  }
  return exchange;
}

// The value of the first response header `name` (lower case, as HTTP/2 has them).
std::string header_value(const std::string& text, const std::string& name) {
  const std::size_t at = text.find(") " + name + ": ");
  if (at == std::string::npos) return {};
  const std::size_t start = at + name.size() + 4;
  return text.substr(start, text.find('\n', start) - start);
}

std::string tls_env(int port) {
  return "PUSHCGI_TLS_PORT=" + std::to_string(port);
}

class Http2Push : public ::testing::TestWithParam<std::string> {};

// The pull page's snapshot: promised with the page, used instead of asking for it.
TEST_P(Http2Push, ThePullPagesSnapshotIsPushedAndIsWhatThePageShows) {
  const int tls = free_port();
  Stack stack(GetParam(), "", {tls_env(tls)});
  ASSERT_TRUE(stack.ready()) << stack.log();
  const std::string url = "https://127.0.0.1:" + std::to_string(tls) + "/webcam/?mode=pull";

  // -a: also fetch what the page links to (its <img>), as a browser would, unless pushed.
  const Http2Exchange pushed = nghttp({"-n", "-a"}, url);
  ASSERT_NE(pushed.text.find("The negotiated protocol: h2"), std::string::npos) << pushed.text;
  EXPECT_EQ(pushed.push_promises, 1u) << pushed.text;
  ASSERT_EQ(pushed.promised.size(), 1u) << pushed.text;
  const std::string snapshot = pushed.promised.front();
  EXPECT_EQ(snapshot.rfind("/webcam/snapshot?t=", 0), 0u) << snapshot;
  EXPECT_EQ(header_value(pushed.text, "link"), "<" + snapshot + ">; rel=preload; as=image");
  // The page was the one request: its picture came with it.
  EXPECT_EQ(pushed.requested, std::vector<std::string>{"/webcam/?mode=pull"}) << pushed.text;
  EXPECT_NE(pushed.text.find("recv (stream_id=2) content-type: image/jpeg"), std::string::npos)
      << pushed.text;
  EXPECT_NE(pushed.text.find("First push response header"), std::string::npos) << pushed.text;

  // Refusing pushes, nghttp asks for the page's picture itself: the pushed one was it.
  const Http2Exchange refused = nghttp({"-n", "-a", "--no-push"}, url);
  EXPECT_EQ(refused.push_promises, 0u) << refused.text;
  ASSERT_EQ(refused.requested.size(), 2u) << refused.text;
  EXPECT_EQ(refused.requested[1].rfind("/webcam/snapshot?t=", 0), 0u) << refused.text;
}

// The wall's snapshots: pushed as far as the server allows, each fetched exactly once.
TEST_P(Http2Push, TheWallsSnapshotsArePushedAndNoneIsFetchedTwice) {
  const int tls = free_port();
  std::string cameras;
  for (int i = 1; i <= 12; ++i) {
    const std::string name = "cam" + std::to_string(i);
    cameras += " --source " + name + "=testcard --size " + name + "=160x120 --fps " + name + "=2";
  }
  Stack stack(GetParam(), cameras, {tls_env(tls)});
  ASSERT_TRUE(stack.ready()) << stack.log();
  const Http2Exchange exchange =
      nghttp({"-n", "-a"}, "https://127.0.0.1:" + std::to_string(tls) + "/webcam/");
  // nginx pushes at most http2_max_concurrent_pushes (10) per connection, Apache all 12.
  EXPECT_GE(exchange.push_promises, 10u) << exchange.text;
  EXPECT_EQ(exchange.push_promises, exchange.promised.size());
  std::multiset<std::string> snapshots(exchange.promised.begin(), exchange.promised.end());
  for (const std::string& path : exchange.requested) {
    if (path != "/webcam/") snapshots.insert(path);
  }
  std::set<std::string> expected;
  for (int i = 1; i <= 12; ++i) expected.insert("/webcam/cam" + std::to_string(i) + "/snapshot");
  EXPECT_EQ(std::set<std::string>(snapshots.begin(), snapshots.end()), expected) << exchange.text;
  EXPECT_EQ(snapshots.size(), 12u) << exchange.text;
  // A stream is never pushed, nor asked for by a client that runs no script.
  EXPECT_EQ(exchange.text.find("/stream"), std::string::npos) << exchange.text;
}

INSTANTIATE_TEST_SUITE_P(Servers, Http2Push, ::testing::Values("nginx", "apache-proxy"),
                         [](const auto& param_info) { return server_test_name(param_info.param); });

class Http2Streams : public ::testing::TestWithParam<std::string> {};

// Through nginx, mod_proxy_fcgi, mod_fcgid and mod_cgid alike: the multipart head becomes
// HTTP/2 headers and the parts flow as they are made.
TEST_P(Http2Streams, AStreamFlowsOverHttp2) {
  const int tls = free_port();
  Stack stack(GetParam(), "", {tls_env(tls)});
  ASSERT_TRUE(stack.ready()) << stack.log();
  const RunResult curl = run_program(
      {"/usr/bin/curl", "-sk", "--http2", "-N", "-D", "-", "--max-time", "3", "-o", "/dev/null",
       "-w", "%{size_download}", "https://127.0.0.1:" + std::to_string(tls) + "/webcam/stream"},
      10s);
  EXPECT_EQ(curl.out.rfind("HTTP/2 200", 0), 0u) << curl.out << curl.err;
  EXPECT_NE(curl.out.find("content-type: multipart/x-mixed-replace; boundary="), std::string::npos)
      << curl.out;
  // 3 s of a 15 fps testcard of about 30 KB a frame; at least a second's worth.
  const std::string size = curl.out.substr(curl.out.rfind('\n') + 1);
  EXPECT_GT(std::stol(size.empty() ? "0" : size), 15 * 10'000) << curl.out;
  if (stack.shared_program()) {
    EXPECT_TRUE(stack.wait_open_streams("/webcam", 0, 5s)) << "the stream outlived curl";
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, Http2Streams, ::testing::ValuesIn(kServers),
                         [](const auto& param_info) { return server_test_name(param_info.param); });

// nginx: fourteen streams on one connection all flow (HTTP/1.1 would allow a browser six),
// and they end with the connection.
TEST(Http2Connection, FourteenStreamsShareOneConnectionThroughNginx) {
  const int tls = free_port();
  Stack stack("nginx", "--fps 5", {tls_env(tls)});
  ASSERT_TRUE(stack.ready()) << stack.log();
  SpawnOptions options;
  options.own_process_group = true;
  Process client({"/usr/bin/nghttp", "-n", "-m", "14",
                  "https://127.0.0.1:" + std::to_string(tls) + "/webcam/stream"},
                 options);
  EXPECT_TRUE(stack.wait_open_streams("/webcam", 14, 10s)) << stack.log();
  client.stop();
  EXPECT_TRUE(stack.wait_open_streams("/webcam", 0, 5s)) << "streams outlived the connection";
}

}  // namespace
}  // namespace pushcgi::test
