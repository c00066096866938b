// Issue 15: one camera, several web servers, through Redis. A webcam.fcgi that owns the
// camera publishes its frames (--publish redis://...) while some server subscribes; three
// stacks (nginx and webcam.fcgi --source redis://..., standing in for three hosts) show
// them. The testcard draws its frame number into the picture and the frames pass through
// byte for byte, so every viewer can read back which of the camera's frames it got.
#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

#include "stack.hpp"
#include "support/fcgi_client.hpp"
#include "support/redis_server.hpp"
#include "testcard_viewers.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

// The camera's program: no web server in front, it serves no viewer itself.
class Publisher {
 public:
  explicit Publisher(const std::string& url)
      : socket_(dir_.file("camera.sock")),
        process_({bin_path("webcam.fcgi"), "--socket", socket_, "--source", "testcard", "--size",
                  "320x240", "--fps", "10", "--linger", "1", "--publish", url},
                 log_options(dir_.file("camera.log"))) {}
  std::string state() {
    FcgiClient client;
    if (!client.connect_unix(socket_)) return {};
    client.send_request(get_params("/state"));
    client.read_to_end(5s);
    return body_of(client.out());
  }
  std::string log() const { return read_file(dir_.file("camera.log")); }

 private:
  static SpawnOptions log_options(const std::string& path) {
    SpawnOptions options;
    options.stderr_path = path;
    return options;
  }
  TempDir dir_;
  std::string socket_;
  Process process_;
};

TEST(RedisFanout, ThreeHundredViewersOnThreeServersShareOneCameraThroughThreeSubscriptions) {
  constexpr std::size_t kServers = 3;
  constexpr std::size_t kViewers = 300;
  constexpr std::size_t kFrames = 6;  // complete parts each viewer reads
  RedisServer redis;
  Publisher camera(redis.url("cam"));
  std::vector<std::unique_ptr<Stack>> servers;
  for (std::size_t i = 0; i < kServers; ++i) {
    servers.push_back(
        std::make_unique<Stack>("nginx", "--source " + redis.url("cam") + " --linger 1"));
    ASSERT_TRUE(servers.back()->ready()) << servers.back()->log();
  }
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(redis.subscribers("cam"), 0) << "a server subscribed before it had a viewer";
  EXPECT_NE(camera.state().find("\"running\":false"), std::string::npos) << camera.state();

  std::vector<HttpClient> viewers(kViewers);
  for (std::size_t i = 0; i < kViewers; ++i) {
    ASSERT_TRUE(viewers[i].get(servers[i % kServers]->port(), "/webcam/stream")) << i;
  }
  std::vector<char> served(kViewers, 0);  // not vector<bool>: one writer each
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < kViewers; ++i) {
    readers.emplace_back(
        [&, i] { served[i] = viewers[i].read_until(has_parts(kFrames + 2), 30s); });
  }
  for (std::thread& reader : readers) reader.join();
  // One subscription per server, not per viewer.
  EXPECT_EQ(redis.subscribers("cam"), static_cast<long>(kServers));
  for (const auto& server : servers) {
    EXPECT_EQ(server->open_streams("/webcam"), static_cast<long>(kViewers / kServers));
  }
  const std::string published = camera.state();
  EXPECT_EQ(json_field(published, "subscribers"), static_cast<long>(kServers)) << published;
  const long made = json_field(published, "frames_in");
  ASSERT_GT(made, 0);
  ASSERT_LT(made, 65536);

  // Every viewer: the camera's frames in order, and the same bytes for the same number
  // whichever server it came through.
  TestcardViewers frames(made);
  for (std::size_t i = 0; i < kViewers; ++i) {
    SCOPED_TRACE("viewer " + std::to_string(i));
    ASSERT_TRUE(served[i]) << viewers[i].response().substr(0, 300);
    const std::vector<std::string> bodies = part_bodies(viewers[i].response());
    ASSERT_GE(bodies.size(), kFrames);
    std::size_t advances = 0;
    ASSERT_NO_FATAL_FAILURE(frames.check(bodies, advances));
  }
  std::printf("%zu viewers on %zu servers, %zu distinct frames among them, the camera made %ld\n",
              kViewers, kServers, frames.distinct(), made);

  // The last viewer anywhere leaves: the subscriptions end, then the camera's source.
  for (HttpClient& viewer : viewers) viewer.close();
  EXPECT_TRUE(eventually([&] { return redis.subscribers("cam") == 0; }, 10s));
  EXPECT_TRUE(eventually(
      [&] { return camera.state().find("\"running\":false") != std::string::npos; }, 10s))
      << camera.state() << camera.log();
}

// ps.fcgi: the process list of one host (a fixture /proc) served by three, each through its
// own nginx, and read only while somebody watches it somewhere.
TEST(RedisFanout, TheProcessListOfOneHostIsServedByThree) {
  RedisServer redis;
  TempDir dir;
  SpawnOptions options;
  options.stderr_path = dir.file("host.log");
  Process host({bin_path("ps.fcgi"), "--socket", dir.file("host.sock"), "--proc",
                std::string(PUSHCGI_SOURCE_DIR) + "/tests/fixtures/proc", "--interval", "1",
                "--publish", redis.url("ps")},
               options);
  std::vector<std::unique_ptr<Stack>> servers;
  for (int i = 0; i < 3; ++i) {
    servers.push_back(std::make_unique<Stack>(
        "nginx", "",
        std::vector<std::string>{"PS_OPTIONS=--interval 1 --source " + redis.url("ps")}));
    ASSERT_TRUE(servers.back()->ready()) << servers.back()->log();
  }
  std::vector<HttpClient> viewers(3);
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(viewers[i].get(servers[i]->port(), "/ps/events?interval=1"));
  }
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(viewers[i].read_until(
        [](const std::string& r) { return r.find("3 of 3 processes") != std::string::npos; }, 10s))
        << viewers[i].response().substr(0, 400) << servers[i]->log()
        << read_file(dir.file("host.log"));
    EXPECT_NE(viewers[i].response().find("&lt;script&gt;alert(1)&lt;/script&gt;"),
              std::string::npos);
  }
  EXPECT_EQ(redis.subscribers("ps"), 3);
  for (HttpClient& viewer : viewers) viewer.close();
  EXPECT_TRUE(eventually([&] { return redis.subscribers("ps") == 0; }, 10s));
}

}  // namespace
}  // namespace pushcgi::test
