// webcam.fcgi with several cameras (--source NAME=SPEC) over a real FastCGI socket.
#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "fcgi_program.hpp"
#include "pushcgi/jpeg.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// One camera's object in /state's "cameras" (up to the next camera's), or "" if absent.
std::string camera_in(const std::string& state, const std::string& name) {
  const std::size_t start = state.find("{\"name\":\"" + name + "\"");
  if (start == std::string::npos) return {};
  const std::size_t end = state.find("{\"name\":\"", start + 1);
  return state.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

bool running(const std::string& camera) {
  return camera.find("\"running\":true") != std::string::npos;
}

// Reads every client for how_long, each on its own thread.
void read_all_for(std::vector<FcgiClient*>& clients, Clock::duration how_long) {
  const auto until = Clock::now() + how_long;
  std::vector<std::thread> readers;
  for (FcgiClient* client : clients) {
    readers.emplace_back([client, until] {
      client->read_until(
          [](const std::string&) { return false; },
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
    });
  }
  for (std::thread& reader : readers) reader.join();
}

struct Viewer {
  std::string camera;
  std::string query;
  int width;    // of the camera's testcard: tells the cameras apart
  double rate;  // frames a second it should get
};

// Three testcards at 2, 5 and 10 fps, each with two viewers, one of them with its own
// ?fps= cap: every viewer gets only its own camera's pictures, at its own rate, and /state
// shows each camera with its viewers.
TEST(Cameras, ThreeCamerasEachWithItsOwnViewersAndRates) {
  FcgiProgram webcam("webcam.fcgi", 8,
                     {"--source", "slow=testcard", "--source", "mid=testcard", "--source",
                      "fast=testcard", "--fps", "slow=2", "--fps", "mid=5", "--fps", "fast=10",
                      "--size", "slow=160x120", "--size", "mid=192x144", "--size", "fast=224x168"});
  const std::vector<Viewer> viewers = {{"slow", "", 160, 2},  {"slow", "fps=1", 160, 1},
                                       {"mid", "", 192, 5},   {"mid", "", 192, 5},
                                       {"fast", "", 224, 10}, {"fast", "fps=4", 224, 4}};
  std::vector<FcgiClient> streams;
  streams.reserve(viewers.size());
  std::vector<FcgiClient*> clients;
  for (const Viewer& viewer : viewers) {
    streams.push_back(webcam.request("/" + viewer.camera + "/stream", viewer.query));
    clients.push_back(&streams.back());
  }
  const auto start = Clock::now();
  read_all_for(clients, 4s);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();

  for (std::size_t i = 0; i < viewers.size(); ++i) {
    const Viewer& viewer = viewers[i];
    const std::string who = viewer.camera + "?" + viewer.query;
    const std::vector<std::string> bodies = part_bodies(streams[i].out());
    for (const std::string& body : bodies) {
      const auto info = inspect_jpeg(body);
      ASSERT_TRUE(info) << who;
      EXPECT_EQ(info->width, viewer.width) << who << ": a picture of another camera";
    }
    // The first frame at once, then one per period. Generous bounds (a loaded machine or a
    // sanitizer build delivers late, never early): the upper one catches a viewer that got a
    // faster camera's rate or no cap (at least 1.8 times its own count here), the lower one
    // a camera that did not run at its own rate at all.
    const double expected = 1 + viewer.rate * seconds;
    EXPECT_GE(static_cast<double>(bodies.size()), expected * 0.4) << who;
    EXPECT_LE(static_cast<double>(bodies.size()), expected * 1.5 + 1) << who;
  }

  const std::string state = body_of(webcam.fetch("/state"));
  EXPECT_EQ(json_field(state, "open_streams"), 6) << state;
  EXPECT_GT(json_field(state, "threads"), 0) << state;
  for (const char* name : {"slow", "mid", "fast"}) {
    const std::string camera = camera_in(state, name);
    ASSERT_FALSE(camera.empty()) << name << ": " << state;
    EXPECT_TRUE(running(camera)) << camera;
    EXPECT_EQ(json_field(camera, "viewers_total"), 2) << camera;
    EXPECT_EQ(json_field(camera, "starts"), 1) << camera;
  }
  EXPECT_NE(camera_in(state, "slow").find("\"fps_cap\":1"), std::string::npos) << state;
  EXPECT_NE(camera_in(state, "fast").find("\"fps_cap\":4"), std::string::npos) << state;

  const std::string mid = body_of(webcam.fetch("/mid/state"));
  EXPECT_EQ(mid.rfind("{\"name\":\"mid\",\"open_streams\":2,\"source\":{", 0), 0u) << mid;
  EXPECT_NE(mid.find("\"describe\":\"testcard 192x144 at 5 fps\""), std::string::npos) << mid;
  EXPECT_NE(mid.find("\"threads\":8"), std::string::npos) << mid;
}

// exec: cameras: only a watched camera's program runs; a camera's program stops --linger
// after its own last viewer leaves, while another camera's goes on.
TEST(Cameras, OnlyWatchedCamerasRunTheirSource) {
  const std::string camera = "exec:" + test_bin_path("mjpeg_loop") + " --fps 10";
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", "a=" + camera, "--source", "b=" + camera, "--source",
                      "c=testcard", "--linger", "1"});
  const pid_t pid = webcam.process().pid();
  std::string state = body_of(webcam.fetch("/state"));
  for (const char* name : {"a", "b", "c"}) {
    EXPECT_FALSE(running(camera_in(state, name))) << state;
    EXPECT_EQ(json_field(camera_in(state, name), "starts"), 0) << state;
  }
  EXPECT_EQ(descendants_named(pid, "mjpeg_loop").size(), 0u);

  FcgiClient a = webcam.request("/a/stream");
  FcgiClient c = webcam.request("/c/stream");
  ASSERT_TRUE(a.read_until(has_parts(3), 10s)) << webcam.log();
  ASSERT_TRUE(c.read_until(has_parts(3), 10s)) << webcam.log();
  EXPECT_EQ(descendants_named(pid, "mjpeg_loop").size(), 1u);
  state = body_of(webcam.fetch("/state"));
  EXPECT_TRUE(running(camera_in(state, "a"))) << state;
  EXPECT_FALSE(running(camera_in(state, "b"))) << state;
  EXPECT_EQ(json_field(camera_in(state, "b"), "starts"), 0) << state;
  EXPECT_EQ(json_field(camera_in(state, "b"), "frames_in"), 0) << state;
  EXPECT_TRUE(running(camera_in(state, "c"))) << state;

  a.close();
  const auto left = Clock::now();
  std::this_thread::sleep_for(300ms);
  EXPECT_TRUE(running(camera_in(body_of(webcam.fetch("/state")), "a"))) << "no linger";
  while (running(camera_in(body_of(webcam.fetch("/state")), "a")) && Clock::now() - left < 5s) {
    std::this_thread::sleep_for(20ms);
  }
  const auto stopped_after = Clock::now() - left;
  EXPECT_GE(stopped_after, 900ms);
  EXPECT_LT(stopped_after, 3s);
  EXPECT_TRUE(alive_after(descendants_named(pid, "mjpeg_loop"), 3s).empty())
      << "camera a's program outlived its linger";
  state = body_of(webcam.fetch("/state"));
  EXPECT_TRUE(running(camera_in(state, "c"))) << "c stopped with a: " << state;
  EXPECT_EQ(json_field(camera_in(state, "b"), "starts"), 0) << state;
  EXPECT_TRUE(c.read_until(has_parts(parts_done(c.out()) + 3), 5s)) << "c's viewer starved";
  // The log names each camera: "exec: mjpeg_loop" alone would not tell a from b.
  const std::string log = webcam.log();
  EXPECT_NE(log.find("starting the source: camera a: exec: mjpeg_loop"), std::string::npos) << log;
  EXPECT_NE(log.find("stopped the source: camera a: exec: mjpeg_loop (nobody watches)"),
            std::string::npos)
      << log;
  EXPECT_EQ(log.find("camera b:"), std::string::npos) << log;
}

// Two cameras watching the same still scene; --skip-unchanged=still sets only one of them.
TEST(Cameras, SkipUnchangedForOneCamera) {
  const std::string scene = "exec:" + test_bin_path("mjpeg_loop") + " --fps 20 --still 40";
  FcgiProgram webcam(
      "webcam.fcgi", 4,
      {"--source", "still=" + scene, "--source", "every=" + scene, "--skip-unchanged=still"});
  FcgiClient still = webcam.request("/still/stream");
  FcgiClient every = webcam.request("/every/stream");
  std::vector<FcgiClient*> clients = {&still, &every};
  read_all_for(clients, 3s);
  const std::string state = body_of(webcam.fetch("/state"));
  const std::string skipping = camera_in(state, "still");
  const std::string sending = camera_in(state, "every");
  ASSERT_GE(json_field(skipping, "frames_in"), 30) << state;
  ASSERT_GE(json_field(sending, "frames_in"), 30) << state;
  EXPECT_GE(json_field(skipping, "frames_unchanged"), json_field(skipping, "frames_in") * 3 / 4)
      << state;
  EXPECT_EQ(json_field(sending, "frames_unchanged"), 0) << state;
  EXPECT_LT(parts_done(still.out()), 10u);
  EXPECT_GE(parts_done(every.out()), 30u);
}

// Exit status 2 and one line on standard error that names the option, whatever the order.
TEST(Cameras, BadCameraOptionsExitWithOneLine) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--source", "a=testcard", "--source", "a=testcard"},
       "option --source: camera 'a' is named twice"},
      {{"--source", "A=testcard"}, "option --source: expected a camera name of 1 to 32"},
      {{"--source", "a b=testcard"}, "option --source: expected testcard, file:PATH"},
      {{"--source", "state=testcard"}, "option --source: 'state' cannot name a camera"},
      {{"--source", "metrics=testcard"}, "option --source: 'metrics' cannot name a camera"},
      {{"--source", "testcard", "--source", "a=testcard"},
       "option --source: cannot mix a plain --source SPEC with named ones"},
      {{"--source", "a=testcard", "--source", "file:/x.jpg"},
       "option --source: cannot mix a plain --source SPEC with named ones"},
      {{"--fps", "b=3", "--source", "a=testcard"}, "option --fps: no camera named 'b'"},
      {{"--source", "a=testcard", "--size", "b=320x240"}, "option --size: no camera named 'b'"},
      {{"--source-label", "b=B", "--source", "a=testcard"},
       "option --source-label: no camera named 'b'"},
      {{"--skip-unchanged=b", "--source", "a=testcard"},
       "option --skip-unchanged: no camera named 'b'"},
      {{"--source", "a=nothing"}, "option --source: camera a: expected testcard"},
      // The wall's panel: a path of this site, and a wall to put it on.
      {{"--source", "a=testcard", "--wall-panel", "https://elsewhere/"},
       "option --wall-panel: expected a path on this site"},
      {{"--source", "a=testcard", "--wall-panel", "//elsewhere/"},
       "option --wall-panel: expected a path on this site"},
      {{"--source", "a=testcard", "--wall-panel", "/a b"},
       "option --wall-panel: expected a path on this site"},
      {{"--source", "testcard", "--wall-panel", "/ps/"},
       "option --wall-panel: the wall needs several cameras"},
  };
  for (const auto& [args, message] : cases) {
    std::vector<std::string> argv = {bin_path("webcam.fcgi")};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult run = run_program(argv, 5s);
    EXPECT_EQ(run.status, 2) << message;
    EXPECT_EQ(run.err.rfind("webcam.fcgi: " + message, 0), 0u) << run.err;
    EXPECT_EQ(run.err.find('\n'), run.err.size() - 1) << run.err;
    EXPECT_EQ(run.out, "");
  }
}

TEST(Cameras, ListPagesAndUnknownCameras) {
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", "door=testcard", "--source", "yard_2=testcard", "--size",
                      "door=160x120", "--source-label", "door=<b>Front & back</b>"});
  const std::string list = webcam.fetch("/");
  EXPECT_EQ(list.rfind("Status: 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n", 0), 0u);
  for (const char* name : {"door", "yard_2"}) {
    const std::string at = std::string("/app/") + name + "/";
    EXPECT_NE(list.find("<a href=\"" + at + "\"><img src=\"" + at + "snapshot\""),
              std::string::npos)
        << list;
  }
  // Streams only from the script, which knows how many the browser allows: without scripts
  // every picture is a snapshot.
  EXPECT_EQ(list.find("src=\"/app/door/stream"), std::string::npos) << list;
  EXPECT_NE(list.find("data-stream=\"/app/door/stream\""), std::string::npos) << list;
  EXPECT_NE(list.find("&lt;b&gt;Front &amp; back&lt;/b&gt;"), std::string::npos) << list;
  EXPECT_EQ(list.find("<b>Front"), std::string::npos) << list;
  // Before a camera's first frame its size is not known: no guess that would stretch it.
  EXPECT_NE(list.find("data-stream=\"/app/door/stream\" alt="), std::string::npos) << list;
  const std::string first_page = webcam.fetch("/door/");
  EXPECT_NE(first_page.find("<img src=\"/app/door/stream\" alt="), std::string::npos) << first_page;

  const std::string snapshot = webcam.fetch("/door/snapshot");
  const auto info = inspect_jpeg(body_of(snapshot));
  ASSERT_TRUE(info) << snapshot.substr(0, 200);
  EXPECT_EQ(info->width, 160);
  // The page's <img> has the size of the pictures seen so far.
  const std::string page = webcam.fetch("/door/");
  EXPECT_NE(page.find("<img src=\"/app/door/stream\" width=\"160\""), std::string::npos) << page;
  EXPECT_NE(page.find("href=\"/app/door/snapshot\""), std::string::npos) << page;
  EXPECT_NE(page.find("href=\"/app/\">all cameras"), std::string::npos) << page;
  EXPECT_NE(page.find("&lt;b&gt;Front"), std::string::npos) << page;
  const std::string pull = webcam.fetch("/door/", "mode=pull&interval=2");
  EXPECT_NE(pull.find("<img src=\"/app/door/snapshot?t="), std::string::npos) << pull;
  // The snapshot the page shows is the one it preloads (and a web server pushes).
  const std::size_t link = pull.find("\r\nLink: </app/door/snapshot?t=");
  ASSERT_NE(link, std::string::npos) << pull;
  const std::string preloaded = pull.substr(link + 9, pull.find('>', link) - link - 9);
  EXPECT_NE(pull.find("<img src=\"" + preloaded + "\""), std::string::npos) << pull;
  EXPECT_NE(pull.find(preloaded + ">; rel=preload; as=image\r\n"), std::string::npos) << pull;

  const std::string redirect = webcam.fetch("/door", "mode=pull");
  EXPECT_EQ(redirect.rfind("Status: 301 Moved Permanently\r\n", 0), 0u) << redirect;
  EXPECT_NE(redirect.find("\r\nLocation: /app/door/?mode=pull\r\n"), std::string::npos) << redirect;

  const std::map<std::string, std::string> not_found = {
      {"/nope/stream", "no camera named 'nope'\n"},
      {"/nope", "no camera named 'nope'\n"},
      {"/stream", "no camera named 'stream'\n"},
      {"/snapshot", "no camera named 'snapshot'\n"},
      {"/door/other", "no such page: '/door/other'\n"},
  };
  for (const auto& [path, reason] : not_found) {
    const std::string response = webcam.fetch(path);
    EXPECT_EQ(response.rfind("Status: 404 Not Found\r\n", 0), 0u) << path << ": " << response;
    EXPECT_EQ(body_of(response), reason) << path;
  }
  EXPECT_EQ(webcam.fetch("/door/stream", "fps=0").rfind("Status: 400 Bad Request\r\n", 0), 0u);
}

// The wall over HTTP/1.1 and over HTTP/2 (what the web server says in SERVER_PROTOCOL).
std::string wall_over(FcgiProgram& webcam, const std::string& protocol) {
  FcgiClient client;
  if (!client.connect_unix(webcam.socket_path())) return {};
  Params params = get_params("/");
  for (auto& [name, value] : params) {
    if (name == "SERVER_PROTOCOL") value = protocol;
  }
  client.send_request(params);
  client.read_to_end(std::chrono::seconds(10));
  return client.out();
}

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t count = 0;
  for (std::size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) {
    ++count;
  }
  return count;
}

TEST(Cameras, TheWallStreamsEveryPictureOverHttp2AndWhatSixConnectionsAllowOverHttp1) {
  std::vector<std::string> args;
  for (int i = 1; i <= 12; ++i) {
    args.push_back("--source");
    args.push_back("cam" + std::to_string(i) + "=testcard");
  }
  FcgiProgram plain("webcam.fcgi", 4, args);
  args.push_back("--wall-panel");
  args.push_back("/ps/?top=12&sort=cpu");
  FcgiProgram paneled("webcam.fcgi", 4, args);

  const std::string h2 = wall_over(paneled, "HTTP/2.0");
  EXPECT_NE(h2.find("<div id=\"wall\" data-live=\"12\""), std::string::npos) << h2;
  EXPECT_NE(h2.find("All 12 pictures are live."), std::string::npos) << h2;
  EXPECT_NE(h2.find("<iframe class=\"panel\" src=\"/ps/?top=12&amp;sort=cpu\""), std::string::npos)
      << h2;
  EXPECT_EQ(count_of(h2, "data-stream=\"/app/cam"), 12u) << h2;
  // Every snapshot in the markup is preloaded, and nothing else (never a stream).
  EXPECT_EQ(count_of(h2, "\r\nLink: </app/cam"), 12u) << h2;
  EXPECT_EQ(count_of(h2, "/snapshot>; rel=preload; as=image\r\n"), 12u) << h2;
  EXPECT_EQ(count_of(h2, "stream>;"), 0u) << h2;
  EXPECT_EQ(wall_over(paneled, "HTTP/3.0").find("data-live=\"12\""), h2.find("data-live=\"12\""));

  // Six connections per host: one for the panel's live list, one kept free.
  const std::string h1 = wall_over(paneled, "HTTP/1.1");
  EXPECT_NE(h1.find("data-live=\"4\""), std::string::npos) << h1;
  EXPECT_NE(h1.find("4 of the 12 pictures are live"), std::string::npos) << h1;
  EXPECT_NE(h1.find("at most six connections to one host"), std::string::npos) << h1;
  const std::string h1_plain = wall_over(plain, "HTTP/1.1");
  EXPECT_NE(h1_plain.find("data-live=\"5\""), std::string::npos) << h1_plain;
  EXPECT_EQ(h1_plain.find("<iframe"), std::string::npos) << h1_plain;
  EXPECT_NE(wall_over(plain, "HTTP/1.0").find("data-live=\"5\""), std::string::npos);
  EXPECT_NE(h1.find("data-multiplexed=\"no\""), std::string::npos) << h1;
  EXPECT_NE(h2.find("data-multiplexed=\"yes\""), std::string::npos) << h2;
}

// A page of the program itself in the panel would open streams the wall does not count.
TEST(Cameras, AWallPanelBelowTheProgramItselfIsLeftOut) {
  FcgiProgram webcam(
      "webcam.fcgi", 4,
      {"--source", "a=testcard", "--source", "b=testcard", "--wall-panel", "/app/a/"});
  const std::string h1 = wall_over(webcam, "HTTP/1.1");
  EXPECT_EQ(h1.find("<iframe"), std::string::npos) << h1;
  EXPECT_NE(h1.find("data-live=\"2\""), std::string::npos) << h1;
}

// A plain --source keeps the routes and the /state of one camera: no names below it.
TEST(Cameras, APlainSourceKeepsTheRoutesOfOneCamera) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--source", "testcard", "--source-label", "door=x"});
  const std::string state = body_of(webcam.fetch("/state"));
  EXPECT_EQ(state.rfind("{\"open_streams\":0,\"source\":{\"describe\":\"door=x\"", 0), 0u) << state;
  EXPECT_EQ(state.find("\"cameras\""), std::string::npos) << state;
  const std::string other = webcam.fetch("/door/stream");
  EXPECT_EQ(body_of(other), "no such page: '/door/stream'\n") << other;
}

}  // namespace
}  // namespace pushcgi::test
