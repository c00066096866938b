// ps.fcgi over a real FastCGI socket.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <thread>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

const std::string kFixture = std::string(PUSHCGI_SOURCE_DIR) + "/tests/fixtures/proc";

// The "id:" values of the SSE events received so far.
std::vector<long> event_ids(const std::string& out) {
  std::vector<long> ids;
  for (std::size_t at = out.find("\nid: "); at != std::string::npos;
       at = out.find("\nid: ", at + 1)) {
    ids.push_back(std::atol(out.c_str() + at + 5));
  }
  return ids;
}

TEST(Ps, PushSendsAWholeDocumentPerInterval) {
  FcgiProgram ps("ps.fcgi", 4);
  FcgiClient viewer = ps.request("/push", "interval=1&top=5");
  ASSERT_TRUE(viewer.read_until(has_parts(3), 10s)) << viewer.out();
  const std::string& out = viewer.out();
  EXPECT_EQ(out.rfind("Status: 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=", 0),
            0u);
  for (std::size_t k = 1; k <= 3; ++k) {
    const std::size_t end = end_of_part(out, k);
    const std::size_t start = k == 1 ? body_start(out) : end_of_part(out, k - 1);
    const std::string part = out.substr(start, end - start);
    EXPECT_NE(part.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
    EXPECT_NE(part.find("<!DOCTYPE html>"), std::string::npos);
    EXPECT_NE(part.find("</html>\n\r\n--"), std::string::npos);
    EXPECT_NE(part.find("5 of "), std::string::npos);
  }
  for (std::size_t k = 2; k <= 3; ++k) {
    const auto gap = viewer.arrival_of(end_of_part(out, k) - 1)->steady -
                     viewer.arrival_of(end_of_part(out, k - 1) - 1)->steady;
    EXPECT_GT(gap, 500ms);
    EXPECT_LT(gap, 1500ms);
  }
}

TEST(Ps, MaxStreamsRefusesTheNextStreamWith503AndStillAnswersState) {
  FcgiProgram ps("ps.fcgi", 6, {"--max-streams", "2"});
  FcgiClient first = ps.request("/push", "interval=1");
  FcgiClient second = ps.request("/events", "interval=1");
  ASSERT_TRUE(first.read_until(has_parts(1), 10s)) << first.out();
  ASSERT_TRUE(second.read_until(
      [](const std::string& out) { return out.find("event: snapshot") != std::string::npos; }, 10s))
      << second.out();

  FcgiClient third = ps.request("/push", "interval=1");
  ASSERT_TRUE(third.read_to_end(10s));
  EXPECT_EQ(third.out().rfind("Status: 503 Service Unavailable\r\n", 0), 0u) << third.out();
  EXPECT_NE(third.out().find("Retry-After: 10\r\n"), std::string::npos);
  EXPECT_NE(third.out().find("too many viewers (2 streams open)"), std::string::npos);

  // Not streams: still answered, and /state tells the administrator why.
  const std::string state = ps.fetch("/state", "");
  EXPECT_EQ(json_field(state, "open_streams"), 2) << state;
  EXPECT_NE(ps.fetch("/", "").find("Status: 200 OK"), std::string::npos);

  // A slot given back is a slot to take.
  first.close();
  bool streaming = false;
  std::string last;
  for (int attempt = 0; attempt < 100 && !streaming; ++attempt) {
    FcgiClient again = ps.request("/push", "interval=1");
    streaming = again.read_until(has_parts(1), 2s) && again.out().rfind("Status: 200 OK", 0) == 0;
    last = again.out();
    if (!streaming) std::this_thread::sleep_for(50ms);
  }
  EXPECT_TRUE(streaming) << last;
}

TEST(Ps, EventsCarryTheSnapshotNumberAndHeartbeats) {
  FcgiProgram ps("ps.fcgi", 4);
  FcgiClient viewer = ps.request("/events", "interval=1&sort=cpu&top=3");
  ASSERT_TRUE(
      viewer.read_until([](const std::string& out) { return event_ids(out).size() >= 3; }, 10s));
  const std::string& out = viewer.out();
  EXPECT_NE(out.find("Content-Type: text/event-stream\r\n"), std::string::npos);
  EXPECT_NE(out.find("\r\n\r\nretry: 2000\n\n"), std::string::npos);
  EXPECT_NE(out.find("event: snapshot\nid: "), std::string::npos);
  EXPECT_NE(out.find("data: <table class=\"ps\">\n"), std::string::npos);
  const std::vector<long> ids = event_ids(out);
  EXPECT_EQ(ids[1], ids[0] + 1);
  EXPECT_EQ(ids[2], ids[1] + 1);
}

TEST(Ps, QuietEventStreamSendsHeartbeats) {
  FcgiProgram ps("ps.fcgi", 4);
  FcgiClient viewer = ps.request("/events", "interval=60");
  EXPECT_TRUE(viewer.read_until(
      [](const std::string& out) { return out.find(": heartbeat\n") != std::string::npos; }, 5s));
  EXPECT_EQ(event_ids(viewer.out()).size(), 1u);
}

TEST(Ps, PullCarriesTheRefresh) {
  FcgiProgram ps("ps.fcgi", 4);
  const std::string page = ps.fetch("/pull", "interval=3");
  EXPECT_EQ(page.rfind("Status: 200 OK\r\n", 0), 0u);
  EXPECT_NE(page.find("\r\nRefresh: 3\r\n"), std::string::npos);
  EXPECT_NE(page.find("<meta http-equiv=\"refresh\" content=\"3\">"), std::string::npos);
  EXPECT_NE(page.find("Content-Type: text/html; charset=utf-8\r\n"), std::string::npos);
  const std::string paused = ps.fetch("/pull", "interval=3&paused=1");
  EXPECT_EQ(paused.find("Refresh:"), std::string::npos);
  EXPECT_NE(paused.find(">Resume</a>"), std::string::npos);
}

TEST(Ps, LivePageUsesEventSource) {
  FcgiProgram ps("ps.fcgi", 4);
  const std::string page = ps.fetch("/", "interval=2");
  EXPECT_NE(page.find("new EventSource(\"/app/events?interval=2&sort=pid\")"), std::string::npos);
  EXPECT_NE(page.find("<noscript><meta http-equiv=\"refresh\" content=\"2\"></noscript>"),
            std::string::npos);
  EXPECT_NE(page.find("<table class=\"ps\">"), std::string::npos);
}

TEST(Ps, BadQueryValuesGet400WithAReason) {
  FcgiProgram ps("ps.fcgi", 4);
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"interval=0", "interval: expected a whole number from 1 to 3600, got '0'\n"},
      {"interval=abc", "interval: expected a whole number from 1 to 3600, got 'abc'\n"},
      {"interval=3601", "interval: expected a whole number from 1 to 3600, got '3601'\n"},
      {"sort=name", "sort: expected pid|cpu|rss, got 'name'\n"},
      {"top=0", "top: expected a whole number from 1 to 100000, got '0'\n"},
      {"interval=%zz", "malformed query parameter 'interval=%zz'\n"}};
  for (const auto& [query, reason] : cases) {
    for (const char* path : {"/push", "/events", "/pull", "/"}) {
      const std::string response = ps.fetch(path, query);
      EXPECT_EQ(response.rfind("Status: 400 Bad Request\r\n", 0), 0u) << path << "?" << query;
      EXPECT_EQ(body_of(response), reason) << path << "?" << query;
    }
  }
  EXPECT_EQ(ps.fetch("/pull", "paused=yes").rfind("Status: 400 Bad Request\r\n", 0), 0u);
  EXPECT_EQ(ps.fetch("/pull").rfind("Status: 200 OK\r\n", 0), 0u);  // still serving
}

TEST(Ps, ProcessNamesAreEscaped) {
  FcgiProgram ps("ps.fcgi", 4, {"--proc", kFixture});
  const std::string page = ps.fetch("/pull");
  EXPECT_NE(page.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos) << page;
  EXPECT_EQ(page.find("<script>alert"), std::string::npos);
  EXPECT_EQ(page.find("hunter2"), std::string::npos);  // no --show-args
  FcgiProgram with_args("ps.fcgi", 2, {"--proc", kFixture, "--show-args"});
  EXPECT_NE(with_args.fetch("/pull").find("evil --password=hunter2"), std::string::npos);
}

TEST(Ps, NoSnapshotsWhileNobodyWatches) {
  FcgiProgram ps("ps.fcgi", 4);
  std::this_thread::sleep_for(1500ms);
  const std::string state = body_of(ps.fetch("/state"));
  EXPECT_EQ(json_field(state, "snapshots_taken"), 0) << state;
  EXPECT_EQ(json_field(state, "open_streams"), 0);
  EXPECT_NE(state.find("\"producer_period_seconds\":null"), std::string::npos);
  FcgiClient viewer = ps.request("/push", "interval=1");
  ASSERT_TRUE(viewer.read_until(has_parts(2), 10s));
  viewer.close();
  ASSERT_TRUE(ps.wait_open_streams(0, 5s));
  const long taken = json_field(body_of(ps.fetch("/state")), "snapshots_taken");
  std::this_thread::sleep_for(1500ms);
  EXPECT_LE(json_field(body_of(ps.fetch("/state")), "snapshots_taken"), taken + 1);
}

TEST(Ps, StateShowsStreamsAndViewers) {
  FcgiProgram ps("ps.fcgi", 8, {"--interval", "4"});
  FcgiClient push = ps.request("/push");
  FcgiClient events = ps.request("/events");
  ASSERT_TRUE(push.read_until(has_parts(1), 10s));
  ASSERT_TRUE(
      events.read_until([](const std::string& out) { return !event_ids(out).empty(); }, 10s));
  const std::string response = ps.fetch("/state");
  EXPECT_NE(response.find("Content-Type: application/json\r\n"), std::string::npos);
  const std::string state = body_of(response);
  EXPECT_EQ(json_field(state, "open_streams"), 2) << state;
  EXPECT_NE(state.find("\"streams\":{\"push\":1,\"events\":1}"), std::string::npos) << state;
  EXPECT_EQ(json_field(state, "interval_default"), 4);
  EXPECT_EQ(json_field(state, "producer_period_seconds"), 4);
  EXPECT_GE(json_field(state, "snapshots_taken"), 1);
  EXPECT_NE(state.find("{\"mode\":\"push\",\"interval_seconds\":4,"), std::string::npos) << state;
  EXPECT_NE(state.find("\"snapshots_sent\":1"), std::string::npos) << state;
}

TEST(Ps, ClosingAViewerBetweenSnapshotsFreesItWithin100ms) {
  FcgiProgram ps("ps.fcgi", 4);
  for (const char* path : {"/push", "/events"}) {
    FcgiClient viewer = ps.request(path, "interval=30");
    ASSERT_TRUE(viewer.read_until(
        [](const std::string& out) { return out.find("<table") != std::string::npos; }, 10s));
    ASSERT_TRUE(ps.wait_open_streams(1, 5s)) << path;
    viewer.close();
    const auto freed = ps.wait_open_streams(0, 5s);
    ASSERT_TRUE(freed) << path;
    EXPECT_LT(*freed, 100ms) << path;
  }
}

// One client asking for many top= values must not leave everybody else rendering the table
// for themselves: renderings are per sort order, whatever the top= values.
TEST(Ps, ManyTopValuesDoNotMakeOtherViewersRenderTheTableAgain) {
  FcgiProgram ps("ps.fcgi", 4);
  for (int top = 1; top <= 100; ++top) {  // interval=3600: all on the first snapshot
    const std::string page = ps.fetch("/pull", "interval=3600&top=" + std::to_string(top));
    ASSERT_EQ(page.rfind("Status: 200 OK\r\n", 0), 0u) << page;
  }
  const std::string before = body_of(ps.fetch("/state"));
  ASSERT_EQ(json_field(before, "snapshots_taken"), 1) << before;
  for (int viewer = 0; viewer < 3; ++viewer) ps.fetch("/pull", "interval=3600");
  const std::string after = body_of(ps.fetch("/state"));
  ASSERT_EQ(json_field(after, "snapshots_taken"), 1) << after;
  EXPECT_EQ(json_field(after, "tables_rendered"), json_field(before, "tables_rendered")) << after;
  EXPECT_EQ(json_field(after, "tables_rendered"), 1) << after;  // sort=pid, once
}

TEST(Ps, HundredViewersGetEverySnapshot) {
  constexpr int kViewers = 100;
  FcgiProgram ps("ps.fcgi", kViewers + 10);
  std::vector<FcgiClient> viewers;
  for (int i = 0; i < kViewers; ++i) viewers.push_back(ps.request("/events", "interval=1&top=3"));
  // Read them all concurrently, so that no socket buffer decides what arrives.
  std::vector<std::thread> readers;
  for (FcgiClient& viewer : viewers) {
    readers.emplace_back([&viewer] {
      viewer.read_until([](const std::string& out) { return event_ids(out).size() >= 4; }, 20s);
    });
  }
  for (std::thread& reader : readers) reader.join();
  std::set<long> first_ids;
  for (FcgiClient& viewer : viewers) {
    const std::vector<long> ids = event_ids(viewer.out());
    ASSERT_GE(ids.size(), 4u);
    for (std::size_t i = 1; i < ids.size(); ++i) EXPECT_EQ(ids[i], ids[i - 1] + 1);  // none missed
    first_ids.insert(ids.back());
  }
  const std::string state = body_of(ps.fetch("/state"));
  // One snapshot per second for all of them: a handful, not hundreds.
  EXPECT_LE(json_field(state, "snapshots_taken"), 12) << state;
  EXPECT_LE(first_ids.size(), 3u);
}

TEST(Ps, SigtermEndsEveryStreamCleanly) {
  FcgiProgram ps("ps.fcgi", 4);
  FcgiClient push = ps.request("/push", "interval=1");
  FcgiClient events = ps.request("/events", "interval=1");
  ASSERT_TRUE(push.read_until(has_parts(1), 10s));
  ASSERT_TRUE(
      events.read_until([](const std::string& out) { return !event_ids(out).empty(); }, 10s));
  const auto signalled = Clock::now();
  ASSERT_TRUE(ps.process().signal(SIGTERM));
  ASSERT_TRUE(push.read_to_end(2s));
  const std::string close_delimiter = "\r\n--" + boundary_of(push.out()) + "--\r\n";
  EXPECT_EQ(push.out().substr(push.out().size() - close_delimiter.size()), close_delimiter);
  push.close();
  EXPECT_TRUE(events.read_to_end(2s));
  EXPECT_TRUE(events.ended());
  events.close();
  EXPECT_EQ(ps.process().wait_exit(1s), 0);
  EXPECT_LT(Clock::now() - signalled, 1s);
}

TEST(Ps, ServesOneRequestAsCgi) {
  SpawnOptions options;
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  options.env = std::vector<std::string>{"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET",
                                         "SCRIPT_NAME=/cgi-bin/ps",   "PATH_INFO=/pull",
                                         "QUERY_STRING=top=2",        "SERVER_PROTOCOL=HTTP/1.1"};
  options.stdout_fd = out[1];
  Process program({bin_path("ps.fcgi")}, options);
  close(out[1]);
  std::string received;
  char buffer[4096];
  ssize_t n;
  while ((n = read(out[0], buffer, sizeof buffer)) > 0)
    received.append(buffer, static_cast<std::size_t>(n));
  close(out[0]);
  EXPECT_EQ(program.wait_exit(5s), 0);
  EXPECT_EQ(received.rfind("Status: 200 OK\r\n", 0), 0u);
  EXPECT_NE(received.find("Refresh: 5\r\n"), std::string::npos);
  EXPECT_NE(received.find("2 of "), std::string::npos);
  EXPECT_NE(received.find("href=\"/cgi-bin/ps/push?"), std::string::npos);
}

}  // namespace
}  // namespace pushcgi::test
