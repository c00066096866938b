// hello_push as a real FastCGI program on a real socket, driven by a FastCGI client.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kBrowser =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0";
constexpr const char* kCurl = "curl/7.88.1";

// Generous: a stuck or batching program, not a slow machine.
constexpr auto kPartsTimeout = 10s;

std::chrono::system_clock::time_point parse_timestamp(const std::string& text) {
  const std::size_t dot = text.find('.');
  const long long seconds = std::stoll(text.substr(0, dot));
  const long long micros = std::stoll(text.substr(dot + 1));
  return std::chrono::system_clock::time_point{
      std::chrono::microseconds(seconds * 1000000 + micros)};
}

// The X-Timestamp values, each checked to be SECONDS.MICROSECONDS.
std::vector<std::string> timestamps(const std::string& out) {
  std::vector<std::string> stamps;
  const std::string key = "X-Timestamp: ";
  for (std::size_t at = out.find(key); at != std::string::npos; at = out.find(key, at + 1)) {
    const std::string value = out.substr(at + key.size(), out.find("\r\n", at) - at - key.size());
    const std::size_t dot = value.find('.');
    EXPECT_TRUE(dot != std::string::npos && dot > 0 && value.size() - dot == 7 &&
                value.find_first_not_of("0123456789.") == std::string::npos)
        << value;
    stamps.push_back(value);
  }
  return stamps;
}

TEST(HelloPush, LengthFramingIsByteExactAndEachPartArrivesWhenProduced) {
  HelloPushServer server;
  FcgiClient client = server.request(kCurl);
  ASSERT_TRUE(client.read_until(has_parts(3), kPartsTimeout)) << client.out();
  const std::string& out = client.out();
  const std::string b = boundary_of(out);
  ASSERT_EQ(b.size(), 40u);

  const std::vector<std::string> stamps = timestamps(out);
  ASSERT_GE(stamps.size(), 3u);
  std::string expected = expected_stream_head(b) + "--" + b + "\r\n";
  for (int k = 1; k <= 3; ++k) {
    expected += "Content-Type: text/plain\r\nContent-Length: 2\r\nX-Timestamp: " + stamps[k - 1] +
                "\r\n\r\n" + std::to_string(k) + "\n\r\n--" + b + "\r\n";
  }
  EXPECT_EQ(out.substr(0, expected.size()), expected);

  // Each part is on the wire as soon as it is made (fcgi2 would otherwise hold it in its
  // 8 KB buffer for many seconds), and parts come one by one, not in a batch. The bound
  // catches buffering, not a slow machine; bench/part_latency measures the latency.
  for (std::size_t k = 1; k <= 3; ++k) {
    const auto* arrival = client.arrival_of(end_of_part(out, k) - 1);
    ASSERT_NE(arrival, nullptr);
    const auto latency = arrival->wall - parse_timestamp(stamps[k - 1]);
    EXPECT_LT(latency, 500ms) << "part " << k;
    if (k > 1) {
      const auto* previous = client.arrival_of(end_of_part(out, k - 1) - 1);
      EXPECT_GT(arrival->steady - previous->steady, 500ms) << "parts " << k - 1 << " and " << k;
    }
  }
}

TEST(HelloPush, BrowserFramingIsByteExactAndNoFrameLate) {
  HelloPushServer server;
  const auto requested = Clock::now();
  FcgiClient client = server.request(kBrowser);
  ASSERT_TRUE(client.read_until(has_parts(3), kPartsTimeout)) << client.out();
  const std::string& out = client.out();
  const std::string b = boundary_of(out);
  const std::string block = "--" + b + "\r\nContent-Type: text/plain\r\n\r\n";
  std::string expected = expected_stream_head(b) + block;
  for (int k = 1; k <= 3; ++k) expected += std::to_string(k) + "\n\r\n" + block;
  EXPECT_EQ(out.substr(0, expected.size()), expected);

  // Part k is complete for a browser when the header block after it has arrived: that must
  // happen when part k is made, not when part k+1 is (one frame late).
  const auto* first = client.arrival_of(end_of_part(out, 1) - 1);
  ASSERT_NE(first, nullptr);
  EXPECT_LT(first->steady - requested, 500ms);
  for (std::size_t k = 2; k <= 3; ++k) {
    const auto* arrival = client.arrival_of(end_of_part(out, k) - 1);
    const auto* previous = client.arrival_of(end_of_part(out, k - 1) - 1);
    ASSERT_NE(arrival, nullptr);
    EXPECT_GT(arrival->steady - previous->steady, 500ms);
    EXPECT_LT(arrival->steady - previous->steady, 1500ms);
  }
}

TEST(HelloPush, FramingQueryOverridesTheUserAgent) {
  HelloPushServer server;
  FcgiClient client = server.request(kBrowser, "framing=length");
  ASSERT_TRUE(client.read_until(has_parts(1), kPartsTimeout));
  EXPECT_NE(client.out().find("Content-Length: 2\r\nX-Timestamp: "), std::string::npos);
}

TEST(HelloPush, BadQueryGets400AndOtherViewersGoOn) {
  HelloPushServer server(2);
  FcgiClient viewer = server.request(kCurl);
  ASSERT_TRUE(viewer.read_until(has_parts(1), kPartsTimeout));

  FcgiClient bad = server.request(kCurl, "framing=fast");
  ASSERT_TRUE(bad.read_to_end(5s));
  EXPECT_EQ(bad.out().substr(0, 25), "Status: 400 Bad Request\r\n");
  EXPECT_EQ(bad.out().substr(body_start(bad.out())),
            "framing: expected browser|length, got 'fast'\n");
  EXPECT_TRUE(bad.ended());
  EXPECT_EQ(bad.app_status(), 0);
  bad.close();

  EXPECT_TRUE(viewer.read_until(has_parts(2), kPartsTimeout));
}

// A client that trickles a body holds nothing: with one thread, each of these is refused
// from its parameters or at the body's first byte, while the rest of the body never comes,
// and the thread then serves the next request.
TEST(HelloPush, ABodyIsRefusedBeforeItArrivesAndHoldsNoThread) {
  HelloPushServer server(1);
  struct Case {
    const char* method;
    const char* content_length;
    const char* first_bytes;  // sent as STDIN; the empty record that ends it never is
    const char* status;
  };
  for (const Case& c : {Case{"POST", "1000000", "x", "Status: 405 Method Not Allowed\r\n"},
                        Case{"GET", "1000000", "x", "Status: 413 Content Too Large\r\n"},
                        Case{"GET", "", "x", "Status: 413 Content Too Large\r\n"}}) {
    SCOPED_TRACE(std::string(c.method) + " CONTENT_LENGTH=" + c.content_length);
    Params params = get_params("/");
    for (auto& [name, value] : params) {
      if (name == "REQUEST_METHOD") value = c.method;
    }
    params.emplace_back("CONTENT_LENGTH", c.content_length);
    FcgiClient trickler;
    ASSERT_TRUE(trickler.connect_unix(server.socket_path()));
    ASSERT_TRUE(trickler.send_head(params));
    ASSERT_TRUE(trickler.send_stdin(c.first_bytes));
    ASSERT_TRUE(trickler.read_to_end(5s)) << trickler.out();
    EXPECT_EQ(trickler.out().substr(0, std::string(c.status).size()), c.status);
  }
  FcgiClient viewer = server.request(kCurl);
  EXPECT_TRUE(viewer.read_until(has_parts(1), kPartsTimeout));
}

// Started with standard error closed, the program puts /dev/null there before it opens
// anything: otherwise its socket or a viewer's connection would take descriptor 2, get its
// log lines, and be inherited as standard error by a child it starts.
TEST(HelloPush, AClosedStandardErrorBecomesDevNull) {
  TempDir dir;
  const std::string socket = dir.file("hello.sock");
  SpawnOptions options;
  options.close_stderr = true;
  Process program({bin_path("hello_push"), "--socket", socket, "--threads", "1"}, options);
  FcgiClient viewer;
  ASSERT_TRUE(viewer.connect_unix(socket));
  ASSERT_TRUE(viewer.send_request(get_params("/")));
  ASSERT_TRUE(viewer.read_until(has_parts(1), kPartsTimeout));
  char target[256] = {};
  const std::string fd2 = "/proc/" + std::to_string(program.pid()) + "/fd/2";
  ASSERT_GT(readlink(fd2.c_str(), target, sizeof target - 1), 0);
  EXPECT_STREQ(target, "/dev/null");
}

TEST(HelloPush, ClosingTheViewerFreesItsThreadForTheNextRequest) {
  HelloPushServer server(1);  // one thread: the next request waits until it is free
  FcgiClient first = server.request(kCurl);
  ASSERT_TRUE(first.read_until(has_parts(1), kPartsTimeout));
  first.close();
  const auto closed = Clock::now();

  FcgiClient second = server.request(kCurl);
  ASSERT_TRUE(second.read_until(has_parts(1), kPartsTimeout));
  const auto served = second.arrival_of(end_of_part(second.out(), 1) - 1)->steady;
  // The handler noticed the close while it waited between parts (not at its next write,
  // a second later), returned, and its thread took the next request.
  EXPECT_LT(served - closed, 100ms);
  second.close();
  const auto deadline = Clock::now() + 5s;
  while (server.log().find("viewer left") == std::string::npos && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_NE(server.log().find("GET /: stream ended after "), std::string::npos) << server.log();
  EXPECT_NE(server.log().find("bytes: viewer left"), std::string::npos) << server.log();
}

TEST(HelloPush, ManyViewersAtOnce) {
  constexpr unsigned kViewers = 20;
  // Blocking streams may hold all workers but a quarter.
  HelloPushServer server(kViewers * 4 / 3 + 1);
  std::vector<FcgiClient> viewers;
  for (unsigned i = 0; i < kViewers; ++i)
    viewers.push_back(server.request(i % 2 ? kCurl : kBrowser));
  for (FcgiClient& viewer : viewers) {
    EXPECT_TRUE(viewer.read_until(has_parts(2), kPartsTimeout));
  }
}

TEST(HelloPush, SigtermEndsEveryStreamWithTheCloseDelimiter) {
  HelloPushServer server(4);
  FcgiClient browser = server.request(kBrowser);
  FcgiClient other = server.request(kCurl);
  ASSERT_TRUE(browser.read_until(has_parts(1), kPartsTimeout));
  ASSERT_TRUE(other.read_until(has_parts(1), kPartsTimeout));

  const auto signalled = Clock::now();
  ASSERT_TRUE(server.process().signal(SIGTERM));
  for (FcgiClient* client : {&browser, &other}) {
    ASSERT_TRUE(client->read_to_end(2s));
    const std::string close = "\r\n--" + boundary_of(client->out()) + "--\r\n";
    ASSERT_GE(client->out().size(), close.size());
    EXPECT_EQ(client->out().substr(client->out().size() - close.size()), close);
    EXPECT_TRUE(client->ended());
    EXPECT_EQ(client->app_status(), 0);
    client->close();
  }
  EXPECT_EQ(server.process().wait_exit(1s), 0);
  EXPECT_LT(Clock::now() - signalled, 1s);
  struct stat info {};
  EXPECT_NE(stat(server.socket_path().c_str(), &info), 0) << "socket file left behind";
}

TEST(HelloPush, SigtermWhileIdleExitsAtOnce) {
  HelloPushServer server(16);
  FcgiClient probe;
  ASSERT_TRUE(probe.connect_unix(server.socket_path()));  // wait until it listens
  probe.close();
  const auto signalled = Clock::now();
  ASSERT_TRUE(server.process().signal(SIGTERM));
  EXPECT_EQ(server.process().wait_exit(1s), 0);
  EXPECT_LT(Clock::now() - signalled, 1s);
}

TEST(HelloPush, BadOptionsAreOneLineAndExit2) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--threads", "abc"},
                                               {"--threads=0"},
                                               {"--bogus"},
                                               {"--socket", "host:99999"},
                                               {"--socket-mode", "999"},
                                               {"stray"},
                                               {"--log-level", "loud"}}) {
    std::vector<std::string> argv = {bin_path("hello_push")};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult result = run_program(argv);
    EXPECT_EQ(result.status, 2) << args[0];
    EXPECT_EQ(std::count(result.err.begin(), result.err.end(), '\n'), 1) << result.err;
    EXPECT_EQ(result.err.rfind("hello_push: ", 0), 0u) << result.err;
    const std::string option = args[0].substr(0, args[0].find('='));
    if (option.rfind("--", 0) == 0) {
      EXPECT_NE(result.err.find(option), std::string::npos) << result.err;
    }
    EXPECT_TRUE(result.out.empty());
  }
}

TEST(HelloPush, HelpListsTheOptions) {
  const RunResult result = run_program({bin_path("hello_push"), "--help"});
  EXPECT_EQ(result.status, 0);
  for (const char* option :
       {"--socket PATH|HOST:PORT", "--socket-mode", "--threads N", "--log-level", "--help"}) {
    EXPECT_NE(result.out.find(option), std::string::npos) << option;
  }
}

TEST(HelloPush, UnusableSocketPathIsAnErrorNotAHang) {
  TempDir dir;
  const RunResult result =
      run_program({bin_path("hello_push"), "--socket", dir.file("missing/dir/app.sock")});
  EXPECT_EQ(result.status, 1);
  EXPECT_NE(result.err.find("cannot listen: bind"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace pushcgi::test
