// One camera, several programs, through a real redis-server: webcam.fcgi --publish puts a
// camera's frames on a channel while some program subscribes, webcam.fcgi --source redis://
// shows them; Redis going away and coming back, passwords, the unix socket.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <set>
#include <thread>

#include "fcgi_program.hpp"
#include "pushcgi/jpeg.hpp"
#include "relay_support.hpp"
#include "support/redis_server.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

// The camera's program: a small testcard at 10 fps, published to url.
std::vector<std::string> publisher_args(const std::string& url,
                                        std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--source", "testcard", "--size", "160x120",   "--fps",
                                   "10",       "--linger", "1",      "--publish", url};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// A web server's program showing the channel.
std::vector<std::string> subscriber_args(const std::string& url,
                                         std::vector<std::string> more = {}) {
  std::vector<std::string> args = {"--source", url, "--linger", "1", "--source-timeout", "3"};
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

bool source_running(FcgiProgram& webcam) {
  return body_of(webcam.fetch("/state")).find("\"running\":true") != std::string::npos;
}

TEST(Redis, ACamerasFramesReachAnotherProgramOnlyWhileItHasViewers) {
  RedisServer redis;
  FcgiProgram camera("webcam.fcgi", kDefaultThreads, publisher_args(redis.url("cam")));
  FcgiProgram web("webcam.fcgi", kDefaultThreads, subscriber_args(redis.url("cam")));
  // Nobody watches anywhere: no subscription, no source.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(redis.subscribers("cam"), 0);
  EXPECT_FALSE(source_running(camera)) << body_of(camera.fetch("/state"));
  EXPECT_NE(state_with(camera, "\"connected\":true").find("\"subscribers\":0"), std::string::npos);

  FcgiClient viewer = web.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(12), 10s)) << web.log() << camera.log();
  EXPECT_EQ(redis.subscribers("cam"), 1);
  EXPECT_TRUE(source_running(camera));
  const std::vector<std::string> bodies = part_bodies(viewer.out());
  std::set<std::string> distinct;
  for (const std::string& body : bodies) {
    const auto info = inspect_jpeg(body);
    ASSERT_TRUE(info) << "not a JPEG";
    EXPECT_EQ(info->width, 160);
    distinct.insert(body);
  }
  EXPECT_GE(distinct.size(), bodies.size() - 1) << "the frames do not move";
  const std::string published = body_of(camera.fetch("/state"));
  EXPECT_EQ(json_field(published, "subscribers"), 1) << published;
  EXPECT_GE(json_field(published, "frames_published"), 10) << published;

  // The last viewer leaves: the subscription ends after --linger, then the camera's source.
  viewer.close();
  EXPECT_TRUE(eventually([&] { return redis.subscribers("cam") == 0; }, 5s));
  EXPECT_TRUE(eventually([&] { return !source_running(camera); }, 5s)) << camera.log();
  EXPECT_NE(camera.log().find("publish: no subscriber: not publishing"), std::string::npos);
}

TEST(Redis, ViewersKeepTheirStreamWhileRedisRestarts) {
  RedisServer redis;
  FcgiProgram camera("webcam.fcgi", kDefaultThreads, publisher_args(redis.url("cam")));
  FcgiProgram web("webcam.fcgi", kDefaultThreads, subscriber_args(redis.url("cam")));
  FcgiClient viewer = web.request("/stream", "framing=length");
  ASSERT_TRUE(viewer.read_until(has_parts(5), 10s)) << web.log();

  redis.stop();
  const std::string down = state_with(web, "retry in");
  EXPECT_TRUE(down.find("Redis closed the connection") != std::string::npos ||
              down.find("cannot connect to Redis: connection refused") != std::string::npos)
      << down;
  // Still connected: the last frame is repeated.
  const std::size_t parts_while_down = parts_done(viewer.out());
  ASSERT_TRUE(viewer.read_until(has_parts(parts_while_down + 2), 5s)) << "the stream stopped";

  ASSERT_TRUE(redis.start());
  const std::vector<std::string> before = part_bodies(viewer.out());
  const std::set<std::string> old(before.begin(), before.end());
  // Back within the backoff (at most 4 s after two failures) and a count of subscribers.
  const bool resumed = viewer.read_until(
      [&](const std::string& out) {
        for (const std::string& body : part_bodies(out)) {
          if (old.count(body) == 0) return true;
        }
        return false;
      },
      15s);
  EXPECT_TRUE(resumed) << web.log() << camera.log();
  EXPECT_GE(json_field(body_of(web.fetch("/state")), "incidents"), 1);
}

// The camera's program dies and another takes its place: the viewers keep their streams
// (the last frame repeated), /state says the channel is quiet, and the new publisher's
// frames come as soon as it counts the subscription.
TEST(Redis, ViewersKeepTheirStreamWhileThePublisherRestarts) {
  RedisServer redis;
  auto camera = std::make_unique<FcgiProgram>("webcam.fcgi", kDefaultThreads,
                                              publisher_args(redis.url("cam")));
  FcgiProgram web("webcam.fcgi", kDefaultThreads, subscriber_args(redis.url("cam")));
  FcgiClient viewer = web.request("/stream", "framing=length");
  ASSERT_TRUE(viewer.read_until(has_parts(5), 10s)) << web.log();
  camera->process().kill();
  camera.reset();
  const std::string quiet = state_with(web, "no frame on the channel for 3 s");
  EXPECT_NE(quiet.find("\"problem\":\"no frame on the channel for 3 s\""), std::string::npos)
      << quiet;
  EXPECT_EQ(redis.subscribers("cam"), 1) << "the subscription did not stay";
  const std::size_t parts_while_quiet = parts_done(viewer.out());
  ASSERT_TRUE(viewer.read_until(has_parts(parts_while_quiet + 2), 5s)) << "the stream stopped";

  const std::vector<std::string> before = part_bodies(viewer.out());
  const std::set<std::string> old(before.begin(), before.end());
  const auto restarted = std::chrono::steady_clock::now();
  FcgiProgram again("webcam.fcgi", kDefaultThreads, publisher_args(redis.url("cam")));
  const bool resumed = viewer.read_until(
      [&](const std::string& out) {
        for (const std::string& body : part_bodies(out)) {
          if (old.count(body) == 0) return true;
        }
        return false;
      },
      10s);
  ASSERT_TRUE(resumed) << web.log() << again.log();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - restarted).count();
  std::printf("frames again %.2f s after the publisher restarted\n", seconds);
  EXPECT_NE(state_with(web, "\"problem\":\"\"").find("\"problem\":\"\""), std::string::npos);
  EXPECT_NE(web.log().find("frames again"), std::string::npos);
}

TEST(Redis, APasswordWorksAndAppearsInNoResponseAndNoLogLine) {
  const std::string password = "s3cr3t-Pw";
  RedisServer redis({"--requirepass", password});
  FcgiProgram camera("webcam.fcgi", kDefaultThreads,
                     publisher_args(redis.url("cam", ":" + password), {"--log-level", "debug"}));
  FcgiProgram web("webcam.fcgi", kDefaultThreads,
                  subscriber_args(redis.url("cam", ":" + password), {"--log-level", "debug"}));
  FcgiProgram wrong("webcam.fcgi", kDefaultThreads,
                    subscriber_args(redis.url("cam", ":not-it"), {"--log-level", "debug"}));
  FcgiClient viewer = web.request("/stream");
  ASSERT_TRUE(viewer.read_until(has_parts(3), 10s)) << web.log() << camera.log();
  FcgiClient refused = wrong.request("/stream");
  const std::string state = state_with(wrong, "Redis refused");
  EXPECT_NE(state.find("Redis refused the user name or password; retry in"), std::string::npos)
      << state;
  // The password from a netrc file instead of the command line, for both programs.
  TempDir dir;
  const std::string netrc = dir.file("netrc");
  {
    std::ofstream file(netrc);
    file << "machine 127.0.0.1 login default password " << password << "\n";
  }
  FcgiProgram from_file("webcam.fcgi", kDefaultThreads,
                        subscriber_args(redis.url("cam"), {"--source-netrc", netrc}));
  FcgiClient second = from_file.request("/stream");
  ASSERT_TRUE(second.read_until(has_parts(3), 10s)) << from_file.log();
  FcgiProgram ps_host("ps.fcgi", kDefaultThreads,
                      {"--interval", "1", "--publish", redis.url("ps"), "--redis-netrc", netrc});
  FcgiProgram ps_web("ps.fcgi", kDefaultThreads,
                     {"--interval", "1", "--source", redis.url("ps"), "--redis-netrc", netrc});
  FcgiClient events = ps_web.request("/events", "interval=1");
  ASSERT_TRUE(events.read_until(
      [](const std::string& out) { return out.find("event: snapshot") != std::string::npos; }, 10s))
      << ps_web.log() << ps_host.log();
  for (FcgiProgram* program : {&camera, &web, &wrong, &from_file}) {
    const std::string seen = program->log() + body_of(program->fetch("/state")) +
                             program->fetch("/") + program->fetch("/nope");
    EXPECT_EQ(seen.find(password), std::string::npos) << seen;
    EXPECT_EQ(seen.find("not-it"), std::string::npos) << seen;
    EXPECT_NE(seen.find("redis://127.0.0.1:" + std::to_string(redis.port()) + "/cam"),
              std::string::npos);
  }
}

TEST(Redis, TheUnixSocketFormAndMessagesThatAreNoJpeg) {
  RedisServer redis;
  FcgiProgram web("webcam.fcgi", kDefaultThreads,
                  subscriber_args("redis+unix://" + redis.socket_path() + "?channel=cam"));
  FcgiClient viewer = web.request("/stream");
  ASSERT_TRUE(eventually([&] { return redis.subscribers("cam") == 1; }, 10s)) << web.log();
  // Any publisher will do, down to redis-cli; a message that is no JPEG is dropped.
  redis.cli({"PUBLISH", "cam", "hello"});
  const std::string state = state_with(web, "\"frames_dropped\":1");
  EXPECT_EQ(json_field(state, "frames_dropped"), 1) << state;
  EXPECT_EQ(json_field(state, "frames_in"), 0) << state;
}

// A subscriber that stops reading (here: stopped by SIGSTOP) is dropped by Redis once its
// output buffer passes client-output-buffer-limit pubsub (lowered here to 1 MB hard, so that
// the test is short; docs/DEPLOY.md has the defaults' figures). The program notices the
// closed connection when it reads again, counts an incident, subscribes again, and its
// viewers get frames again without losing their streams.
TEST(Redis, ASubscriberThatFellBehindAndWasDroppedByRedisSubscribesAgain) {
  RedisServer redis({"--client-output-buffer-limit", "pubsub 1mb 512kb 1"});
  FcgiProgram camera("webcam.fcgi", kDefaultThreads,
                     {"--source", "testcard", "--size", "1280x720", "--fps", "30", "--linger", "1",
                      "--publish", redis.url("cam")});
  FcgiProgram web("webcam.fcgi", kDefaultThreads, subscriber_args(redis.url("cam")));
  FcgiClient viewer = web.request("/stream", "framing=length");
  ASSERT_TRUE(viewer.read_until(has_parts(5), 10s)) << web.log() << camera.log();
  ASSERT_EQ(::kill(web.process().pid(), SIGSTOP), 0);
  // 30 frames of about 100 KB a second: past the kernel's socket buffers and Redis's limit,
  // and Redis drops the subscription.
  const bool dropped = eventually([&] { return redis.subscribers("cam") == 0; }, 30s);
  ASSERT_EQ(::kill(web.process().pid(), SIGCONT), 0);
  ASSERT_TRUE(dropped) << "Redis kept the stopped subscriber";
  const std::string state = state_with(web, "\"incidents\":1");
  EXPECT_NE(state.find("Redis closed the connection"), std::string::npos) << state;
  const std::size_t parts = parts_done(viewer.out());
  ASSERT_TRUE(viewer.read_until(has_parts(parts + 10), 10s)) << web.log();
  EXPECT_NE(state_with(web, "\"problem\":\"\"").find("\"problem\":\"\""), std::string::npos);
  EXPECT_EQ(redis.subscribers("cam"), 1);
}

// ps.fcgi: one host's process list (here a fixture /proc, whose names need escaping) shown
// by another host's ps.fcgi, through a channel, only while somebody watches it there.
TEST(Redis, AProcessListOfOneHostIsShownByAnother) {
  const std::string fixture = std::string(PUSHCGI_SOURCE_DIR) + "/tests/fixtures/proc";
  RedisServer redis;
  FcgiProgram host("ps.fcgi", kDefaultThreads,
                   {"--proc", fixture, "--interval", "1", "--publish", redis.url("ps")});
  FcgiProgram web("ps.fcgi", kDefaultThreads, {"--interval", "1", "--source", redis.url("ps")});
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(redis.subscribers("ps"), 0);
  EXPECT_EQ(json_field(body_of(host.fetch("/state")), "snapshots_taken"), 0)
      << "the host read /proc for nobody";

  FcgiClient viewer = web.request("/events", "interval=1");
  ASSERT_TRUE(viewer.read_until(
      [](const std::string& out) {
        std::size_t events = 0;
        for (std::size_t at = out.find("event: snapshot"); at != std::string::npos;
             at = out.find("event: snapshot", at + 1)) {
          ++events;
        }
        return events >= 2;
      },
      10s))
      << web.log() << host.log();
  const std::string& out = viewer.out();
  // The fixture's three processes (as the host itself shows them), not this host's.
  EXPECT_NE(out.find("3 of 3 processes"), std::string::npos) << out.substr(0, 600);
  EXPECT_NE(out.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_EQ(out.find("<script>alert(1)"), std::string::npos);
  const std::string web_state = body_of(web.fetch("/state"));
  EXPECT_NE(web_state.find("\"running\":true"), std::string::npos) << web_state;
  EXPECT_GE(json_field(web_state, "messages_in"), 2) << web_state;
  EXPECT_EQ(json_field(web_state, "producer_runs"), 0) << "the web host read its own /proc";
  EXPECT_EQ(json_field(body_of(host.fetch("/state")), "subscribers"), 1);

  viewer.close();
  EXPECT_TRUE(eventually([&] { return redis.subscribers("ps") == 0; }, 8s));
  // The host stops reading /proc once nobody subscribes.
  std::this_thread::sleep_for(1500ms);
  const long taken = json_field(body_of(host.fetch("/state")), "snapshots_taken");
  std::this_thread::sleep_for(2500ms);
  EXPECT_EQ(json_field(body_of(host.fetch("/state")), "snapshots_taken"), taken);
}

TEST(Redis, BadRedisUrlsExitWithOneLineThatDoesNotQuoteThem) {
  const std::vector<std::vector<std::string>> cases = {
      {"webcam.fcgi", "--source", "redis://:pw@127.0.0.1:6379"},
      {"webcam.fcgi", "--source", "redis://:pw@127.0.0.1:99999/c"},
      {"webcam.fcgi", "--publish", "redis://:pw@/c"},
      {"webcam.fcgi", "--publish", "http://:pw@host/c"},
      // Its own channel: it would publish what it receives again, forever.
      {"webcam.fcgi", "--source", "redis://:pw@h/c", "--publish", "redis://:pw@h:6379/c"},
      {"ps.fcgi", "--source", "redis://:pw@h"},
      {"ps.fcgi", "--publish", "redis://pwuser:@h/c"},
      {"ps.fcgi", "--source", "redis://:pw@h/c", "--publish", "redis://:pw@h/c"}};
  for (const std::vector<std::string>& args : cases) {
    std::vector<std::string> argv = {bin_path(args[0])};
    argv.insert(argv.end(), args.begin() + 1, args.end());
    const RunResult run = run_program(argv, 5s);
    EXPECT_EQ(run.status, 2) << args[0] << " " << args[2] << ": " << run.err;
    EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << run.err;
    EXPECT_EQ(run.err.find("pw"), std::string::npos) << run.err;
  }
}

}  // namespace
}  // namespace pushcgi::test
