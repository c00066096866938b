// Issue 16: /metrics on every program, in Prometheus's text format. Every program's answer
// passes `promtool check metrics` (Debian's prometheus package), and the stream counters
// follow what happens: streams open by route, started, refused at --max-streams, ended
// because the viewer left or the time limit came, bytes sent, values delivered.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <sstream>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

// The value of one series ("name" or "name{label=\"value\",...}", exactly as written), or
// nothing if the text has no such line.
std::optional<double> metric(const std::string& text, const std::string& series) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::stod(line.substr(series.size() + 1));
    }
  }
  return std::nullopt;
}

std::string stream_series(const std::string& name, const std::string& route) {
  return name + "{route=\"" + route + "\"}";
}

std::string ended_series(const std::string& route, const std::string& reason) {
  return "pushcgi_streams_ended_total{route=\"" + route + "\",reason=\"" + reason + "\"}";
}

// promtool's verdict on a metrics text: its exit code and what it printed.
struct Verdict {
  int status = -1;
  std::string said;
};

Verdict promtool_check(const std::string& text) {
  TempDir dir;
  {
    std::ofstream file(dir.file("metrics"));
    file << text;
  }
  const int in = ::open(dir.file("metrics").c_str(), O_RDONLY | O_CLOEXEC);
  SpawnOptions options;
  options.stdin_fd = in;
  options.stderr_path = dir.file("said");
  Process promtool({"/usr/bin/promtool", "check", "metrics"}, options);
  ::close(in);
  Verdict verdict;
  verdict.status = promtool.wait_exit(30s).value_or(-1);
  verdict.said = read_file(dir.file("said"));
  return verdict;
}

// /metrics's head and body.
std::string metrics_of(FcgiProgram& program) {
  return program.fetch("/metrics");
}

// Waits (up to 10 s) until /metrics's body holds series at value; body is the last read.
bool metric_becomes(FcgiProgram& program, const std::string& series, double value,
                    std::string& body) {
  return eventually(
      [&] {
        body = body_of(metrics_of(program));
        return metric(body, series) == value;
      },
      10s);
}

void expect_valid_metrics(const std::string& response, const std::string& who) {
  ASSERT_EQ(response.rfind("Status: 200 OK\r\n", 0), 0u) << who << ": " << response.substr(0, 200);
  EXPECT_NE(response.find("\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"),
            std::string::npos)
      << who << ": " << response.substr(0, 300);
  const std::string body = body_of(response);
  const Verdict verdict = promtool_check(body);
  EXPECT_EQ(verdict.status, 0) << who << ": promtool said: " << verdict.said << "\n" << body;
  EXPECT_EQ(verdict.said, "") << who;
  EXPECT_TRUE(metric(body, "process_cpu_seconds_total").has_value()) << who << "\n" << body;
  EXPECT_GT(metric(body, "process_open_fds").value_or(0), 2) << who;
  EXPECT_EQ(metric(body, "pushcgi_build_info{version=\"" + makefile_version() + "\"}"), 1)
      << who << "\n"
      << body;
}

TEST(Metrics, PromtoolFindsNothingWrongWithAnyProgramsMetrics) {
  // The checker itself fails a counter without _total: the check below can fail.
  EXPECT_NE(promtool_check("# HELP pushcgi_x x\n# TYPE pushcgi_x counter\npushcgi_x 1\n").status,
            0);

  FcgiProgram webcam(
      "webcam.fcgi", kDefaultThreads,
      {"--source", "front=testcard", "--source", "back=testcard", "--size", "160x120"});
  FcgiClient viewer = webcam.request("/front/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(2), 10s)) << viewer.out().substr(0, 200);
  const std::string cameras = metrics_of(webcam);
  expect_valid_metrics(cameras, "webcam.fcgi");
  const std::string body = body_of(cameras);
  EXPECT_EQ(metric(body, stream_series("pushcgi_streams_open", "/front/stream")), 1) << body;
  EXPECT_GE(metric(body, "pushcgi_values_published_total{hub=\"front\"}").value_or(0), 2) << body;
  EXPECT_GE(metric(body, "pushcgi_values_delivered_total{hub=\"front\"}").value_or(0), 2) << body;
  EXPECT_EQ(metric(body, "pushcgi_source_up{hub=\"front\"}"), 1) << body;
  EXPECT_EQ(metric(body, "pushcgi_source_up{hub=\"back\"}"), 0) << body;
  EXPECT_EQ(metric(body, "pushcgi_source_starts_total{hub=\"front\"}"), 1) << body;
  EXPECT_TRUE(metric(body, "pushcgi_source_cpu_seconds_total{hub=\"front\"}").has_value()) << body;

  FcgiProgram ps("ps.fcgi", kDefaultThreads, {"--interval", "1"});
  FcgiClient watcher = ps.request("/events");
  ASSERT_TRUE(watcher.read_until(
      [](const std::string& out) { return out.find("data:") != std::string::npos; }, 10s))
      << watcher.out().substr(0, 200);
  const std::string processes = metrics_of(ps);
  expect_valid_metrics(processes, "ps.fcgi");
  const std::string ps_body = body_of(processes);
  EXPECT_EQ(metric(ps_body, stream_series("pushcgi_streams_open", "/events")), 1) << ps_body;
  EXPECT_GE(metric(ps_body, "pushcgi_producer_runs_total{hub=\"ps\"}").value_or(0), 1) << ps_body;
  EXPECT_TRUE(metric(ps_body, "pushcgi_producer_cpu_seconds_total{hub=\"ps\"}").has_value());

  // hello_push writes its stream itself, on its worker (a blocking stream).
  HelloPushServer hello;
  FcgiClient greeted = hello.request("curl/7.88.1");
  ASSERT_TRUE(greeted.read_until(has_parts(1), 10s)) << greeted.out().substr(0, 200);
  const std::string hello_metrics = metrics_of(hello);
  expect_valid_metrics(hello_metrics, "hello_push");
  EXPECT_EQ(metric(body_of(hello_metrics), stream_series("pushcgi_streams_open", "/")), 1)
      << body_of(hello_metrics);
  greeted.close();
  std::string hello_body;
  EXPECT_TRUE(metric_becomes(hello, ended_series("/", "viewer_left"), 1, hello_body)) << hello_body;
  EXPECT_EQ(metric(hello_body, stream_series("pushcgi_streams_open", "/")), 0) << hello_body;
}

TEST(Metrics, AProgramBeforeAnyStreamPassesPromtoolToo) {
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, {"--size", "160x120"});
  expect_valid_metrics(metrics_of(webcam), "webcam.fcgi with no stream yet");
}

TEST(Metrics, StreamsAreCountedByRouteWithWhyTheyEnded) {
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, {"--max-streams", "2", "--size", "160x120"});
  FcgiClient first = webcam.request("/stream");
  FcgiClient second = webcam.request("/stream");
  ASSERT_TRUE(first.read_until(has_parts(1), 10s)) << first.out().substr(0, 200);
  ASSERT_TRUE(second.read_until(has_parts(1), 10s)) << second.out().substr(0, 200);
  FcgiClient third = webcam.request("/stream");
  ASSERT_TRUE(third.read_to_end(10s));
  ASSERT_EQ(third.out().rfind("Status: 503", 0), 0u) << third.out().substr(0, 200);

  std::string body = body_of(metrics_of(webcam));
  EXPECT_EQ(metric(body, stream_series("pushcgi_streams_open", "/stream")), 2) << body;
  EXPECT_EQ(metric(body, stream_series("pushcgi_streams_started_total", "/stream")), 3) << body;
  EXPECT_EQ(metric(body, ended_series("/stream", "refused")), 1) << body;
  EXPECT_EQ(metric(body, ended_series("/stream", "viewer_left")), 0) << body;
  EXPECT_EQ(metric(body, "pushcgi_streams_max"), 2) << body;
  // At least what the two viewers have read (heads, parts); counted as written.
  EXPECT_GE(metric(body, stream_series("pushcgi_stream_sent_bytes_total", "/stream")).value_or(0),
            static_cast<double>(first.out().size() + second.out().size()))
      << body;
  // Pages and snapshots (a reply that waits for its frame in an event loop) are no streams.
  ASSERT_EQ(webcam.fetch("/snapshot").rfind("Status: 200 OK\r\n", 0), 0u);
  ASSERT_EQ(webcam.fetch("/").rfind("Status: 200 OK\r\n", 0), 0u);
  body = body_of(metrics_of(webcam));
  EXPECT_FALSE(metric(body, stream_series("pushcgi_streams_started_total", "/state")).has_value());
  EXPECT_FALSE(
      metric(body, stream_series("pushcgi_streams_started_total", "/snapshot")).has_value())
      << body;
  EXPECT_FALSE(metric(body, stream_series("pushcgi_streams_started_total", "/")).has_value());
  EXPECT_EQ(metric(body, stream_series("pushcgi_streams_started_total", "/stream")), 3) << body;

  first.close();
  EXPECT_TRUE(metric_becomes(webcam, ended_series("/stream", "viewer_left"), 1, body)) << body;
  EXPECT_EQ(metric(body, stream_series("pushcgi_streams_open", "/stream")), 1) << body;
  // The counters never go back: the second viewer's bytes keep adding up.
  const double bytes =
      metric(body, stream_series("pushcgi_stream_sent_bytes_total", "/stream")).value_or(0);
  ASSERT_TRUE(second.read_until(has_parts(parts_done(second.out()) + 2), 10s));
  EXPECT_TRUE(eventually(
      [&] {
        body = body_of(metrics_of(webcam));
        return metric(body, stream_series("pushcgi_stream_sent_bytes_total", "/stream"))
                   .value_or(0) > bytes;
      },
      10s))
      << body;
}

TEST(Metrics, AStreamAtItsTimeLimitEndsAsSuch) {
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     {"--max-stream-seconds", "1", "--size", "160x120"});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_to_end(10s)) << "the stream outlived its time limit";
  std::string body;
  EXPECT_TRUE(metric_becomes(webcam, ended_series("/stream", "time_limit"), 1, body)) << body;
  EXPECT_EQ(metric(body, stream_series("pushcgi_streams_open", "/stream")), 0) << body;
}

// docs/DEPLOY.md's scrape configuration is one Prometheus takes.
TEST(Metrics, TheScrapeConfigurationInTheDocsIsValid) {
  const std::string doc = read_file(std::string(PUSHCGI_SOURCE_DIR) + "/docs/DEPLOY.md");
  const std::size_t section = doc.find("## Prometheus");
  ASSERT_NE(section, std::string::npos);
  const std::size_t begin = doc.find("```yaml\n", section);
  ASSERT_NE(begin, std::string::npos);
  const std::size_t end = doc.find("```", begin + 8);
  ASSERT_NE(end, std::string::npos);
  const std::string config = doc.substr(begin + 8, end - begin - 8);
  EXPECT_NE(config.find("metrics_path: /ps/metrics"), std::string::npos) << config;
  EXPECT_NE(config.find("metrics_path: /webcam/metrics"), std::string::npos) << config;
  TempDir dir;
  {
    std::ofstream file(dir.file("prometheus.yml"));
    file << config;
  }
  const RunResult checked =
      run_program({"/usr/bin/promtool", "check", "config", dir.file("prometheus.yml")}, 30s);
  EXPECT_EQ(checked.status, 0) << checked.out << checked.err << "\n" << config;
}

}  // namespace
}  // namespace pushcgi::test
