// webcam.fcgi over a real FastCGI socket.
#include <dirent.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

#include "fcgi_program.hpp"
#include "pushcgi/jpeg.hpp"
#include "pushcgi/sources/testcard.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kBrowser = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101";

// JPEG frames fully received, by counting delimiters after the body's start.
std::size_t frames(const FcgiClient& client) {
  return parts_done(client.out());
}

// Reads every client for `how_long`, each on its own thread (no socket buffer decides).
void read_all_for(std::vector<FcgiClient>& clients, Clock::duration how_long) {
  const auto until = Clock::now() + how_long;
  std::vector<std::thread> readers;
  for (FcgiClient& client : clients) {
    readers.emplace_back([&client, until] {
      client.read_until(
          [](const std::string&) { return false; },
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
    });
  }
  for (std::thread& reader : readers) reader.join();
}

TEST(Webcam, LengthFramedStreamOfWholeJpegs) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--size", "320x240"});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 3; }, 10s));
  const std::string& out = viewer.out();
  const std::string b = boundary_of(out);
  EXPECT_EQ(out.substr(0, body_start(out)), expected_stream_head(b));
  for (std::size_t k = 1; k <= 3; ++k) {
    const std::size_t start = k == 1 ? body_start(out) + b.size() + 4 : end_of_part(out, k - 1);
    const std::size_t head_end = out.find("\r\n\r\n", start) + 4;
    const std::string head = out.substr(start, head_end - start);
    EXPECT_EQ(head.rfind("Content-Type: image/jpeg\r\nContent-Length: ", 0), 0u) << head;
    EXPECT_NE(head.find("\r\nX-Timestamp: "), std::string::npos);
    const std::size_t length = std::stoul(head.substr(head.find("Content-Length: ") + 16));
    const std::string jpeg = out.substr(head_end, length);
    const auto info = inspect_jpeg(jpeg);
    ASSERT_TRUE(info) << "part " << k;
    EXPECT_EQ(info->width, 320);
    EXPECT_EQ(out.substr(head_end + length, 4 + b.size()), "\r\n--" + b);
  }
}

TEST(Webcam, BrowserFramingSendsTheNextHeaderBlockAfterEachFrame) {
  FcgiProgram webcam("webcam.fcgi", 4);
  FcgiClient viewer = webcam.request("/stream", "", kBrowser);
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 2; }, 10s));
  const std::string& out = viewer.out();
  const std::string block = "--" + boundary_of(out) + "\r\nContent-Type: image/jpeg\r\n\r\n";
  EXPECT_EQ(out.substr(body_start(out), block.size()), block);
  // Right after the first JPEG: the delimiter and the second part's header block.
  const std::size_t jpeg_start = body_start(out) + block.size();
  const std::size_t jpeg_end = out.find("\r\n" + block, jpeg_start);
  ASSERT_NE(jpeg_end, std::string::npos);
  EXPECT_TRUE(inspect_jpeg(out.substr(jpeg_start, jpeg_end - jpeg_start)));
  EXPECT_EQ(end_of_part(out, 1), jpeg_end + 2 + block.size() - 28);
}

TEST(Webcam, FiftyViewersAllGetTheSourceRate) {
  FcgiProgram webcam("webcam.fcgi", 60, {"--fps", "15"});
  std::vector<FcgiClient> viewers;
  for (int i = 0; i < 50; ++i)
    viewers.push_back(webcam.request("/stream", "", i % 2 ? kBrowser : "curl/8"));
  read_all_for(viewers, 3s);
  for (const FcgiClient& viewer : viewers) {
    // 45 frames were made; the bound only catches a viewer that was starved.
    EXPECT_GE(frames(viewer), 30u);
  }
  const std::string state = body_of(webcam.fetch("/state"));
  EXPECT_EQ(json_field(state, "open_streams"), 50) << state;
}

TEST(Webcam, FpsCapsOneViewer) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--fps", "15"});
  std::vector<FcgiClient> viewers;
  viewers.push_back(webcam.request("/stream", "fps=2"));
  viewers.push_back(webcam.request("/stream"));
  read_all_for(viewers, 3s);
  EXPECT_GE(frames(viewers[0]), 5u);
  EXPECT_LE(frames(viewers[0]), 8u);  // about 2 a second (and the first one at once)
  EXPECT_GE(frames(viewers[1]), 30u);
}

TEST(Webcam, AStalledViewerDoesNotSlowTheOthersAndSkipsFrames) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--fps", "15"});
  FcgiClient stalled = webcam.request("/stream");  // never read
  std::vector<FcgiClient> readers;
  readers.push_back(webcam.request("/stream"));
  read_all_for(readers, 4s);
  EXPECT_GE(frames(readers[0]), 45u);
  const std::string state = body_of(webcam.fetch("/state"));
  // The stalled viewer's buffer is full: it skips frames instead of queueing them.
  EXPECT_NE(state.find("\"frames_skipped\":"), std::string::npos);
  std::size_t skipped_max = 0;
  for (std::size_t at = state.find("\"frames_skipped\":"); at != std::string::npos;
       at = state.find("\"frames_skipped\":", at + 1)) {
    skipped_max = std::max<std::size_t>(skipped_max, std::stoul(state.substr(at + 17)));
  }
  EXPECT_GT(skipped_max, 20u) << state;
}

TEST(Webcam, ClosingAViewerFreesItWithin100ms) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--fps", "2"});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 10s));
  ASSERT_TRUE(webcam.wait_open_streams(1, 5s));
  viewer.close();
  const auto freed = webcam.wait_open_streams(0, 5s);
  ASSERT_TRUE(freed);
  EXPECT_LT(*freed, 100ms);
}

TEST(Webcam, BadQueryValuesGet400) {
  FcgiProgram webcam("webcam.fcgi", 4);
  for (const char* query : {"fps=abc", "fps=0", "fps=10000"}) {
    const std::string response = webcam.fetch("/stream", query);
    EXPECT_EQ(response.rfind("Status: 400 Bad Request\r\n", 0), 0u) << query;
    EXPECT_EQ(body_of(response).rfind("fps: expected a whole number from 1 to 120, got '", 0), 0u);
  }
  EXPECT_EQ(webcam.fetch("/", "mode=video").rfind("Status: 400 Bad Request\r\n", 0), 0u);
  EXPECT_EQ(webcam.fetch("/stream", "framing=x").rfind("Status: 400 Bad Request\r\n", 0), 0u);
}

TEST(Webcam, SnapshotIsAFreshJpeg) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--linger", "0"});
  const auto asked = std::chrono::system_clock::now();
  const std::string response = webcam.fetch("/snapshot");
  EXPECT_EQ(response.rfind("Status: 200 OK\r\nContent-Type: image/jpeg\r\n", 0), 0u);
  EXPECT_TRUE(inspect_jpeg(body_of(response)));
  const std::size_t at = response.find("X-Timestamp: ");
  ASSERT_NE(at, std::string::npos);
  const double stamp = std::stod(response.substr(at + 13));
  // The source was idle: the picture was taken after the request, not before.
  EXPECT_GE(stamp, std::chrono::duration<double>(asked.time_since_epoch()).count() - 0.001);
}

TEST(Webcam, SnapshotAnswers503WhenTheSourceGivesNothing) {
  TempDir dir;
  FcgiProgram webcam("webcam.fcgi", 4, {"--source", "file:" + dir.file("missing.jpg")});
  const std::string response = webcam.fetch("/snapshot");
  EXPECT_EQ(response.rfind("Status: 503 Service Unavailable\r\n", 0), 0u) << response;
  EXPECT_NE(response.find("\r\nRetry-After: 2\r\n"), std::string::npos);
}

TEST(Webcam, PagesEmbedTheStreamOrPullTheSnapshot) {
  FcgiProgram webcam("webcam.fcgi", 4);
  const std::string page = webcam.fetch("/");
  EXPECT_NE(page.find("<img src=\"/app/stream\""), std::string::npos) << page;
  EXPECT_NE(page.find("href=\"/app/snapshot\""), std::string::npos);
  const std::string pull = webcam.fetch("/", "mode=pull&interval=2");
  EXPECT_NE(pull.find("\r\nRefresh: 2\r\n"), std::string::npos);
  EXPECT_NE(pull.find("<img src=\"/app/snapshot?t="), std::string::npos);
  EXPECT_EQ(pull.find("/app/stream\""), std::string::npos);  // no stream in a pull page
}

TEST(Webcam, MaxStreamSecondsEndsTheStreamWithItsCloseDelimiter) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--max-stream-seconds", "1", "--size", "160x120"});
  const auto start = Clock::now();
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_to_end(10s)) << "the stream did not end";
  const auto took = Clock::now() - start;
  EXPECT_GE(took, 1s);
  EXPECT_LT(took, 5s);  // a gross bound: a hang, not the timing, is what fails here
  EXPECT_TRUE(viewer.ended());
  const std::string& out = viewer.out();
  EXPECT_GE(parts_done(out), 5u);  // frames flowed all the while (15 fps)
  const std::string close_delimiter = "\r\n--" + boundary_of(out) + "--\r\n";
  ASSERT_GT(out.size(), close_delimiter.size());
  EXPECT_EQ(out.substr(out.size() - close_delimiter.size()), close_delimiter);
  // Not a stream: not limited, and the slot is free again.
  EXPECT_EQ(json_field(body_of(webcam.fetch("/state")), "open_streams"), 0);
}

// The camera programs running below pid (under their keeper).
std::vector<pid_t> cameras_below(pid_t pid) {
  return descendants_named(pid, "mjpeg_loop");
}

// True once none of pids is alive; false after timeout.
bool all_gone(const std::vector<pid_t>& pids, Clock::duration timeout) {
  return alive_after(pids, timeout).empty();
}

TEST(Webcam, ExecChildRunsOnlyWhileWatchedAndNeverOutlivesTheProgram) {
  FcgiProgram webcam(
      "webcam.fcgi", 4,
      {"--source", "exec:" + test_bin_path("mjpeg_loop") + " --fps 30", "--linger", "0"});
  const pid_t pid = webcam.process().pid();
  FcgiClient probe;
  ASSERT_TRUE(probe.connect_unix(webcam.socket_path()));
  probe.close();
  EXPECT_EQ(cameras_below(pid).size(), 0u);  // nobody watches yet

  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 3; }, 10s));
  const std::vector<pid_t> first = cameras_below(pid);
  EXPECT_EQ(first.size(), 1u);
  viewer.close();
  EXPECT_TRUE(all_gone(first, 5s)) << "the child outlived the last viewer";

  FcgiClient again = webcam.request("/stream");
  ASSERT_TRUE(again.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 10s));
  const std::vector<pid_t> second = cameras_below(pid);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_TRUE(webcam.process().signal(SIGTERM));
  EXPECT_TRUE(again.read_to_end(3s));
  again.close();
  EXPECT_EQ(webcam.process().wait_exit(2s), 0);
  EXPECT_TRUE(all_gone(second, 2s));
}

TEST(Webcam, ExecChildDiesWithTheProgramEvenOnSigkill) {
  FcgiProgram webcam("webcam.fcgi", 4, {"--source", "exec:" + test_bin_path("mjpeg_loop")});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 10s));
  const std::vector<pid_t> cameras = cameras_below(webcam.process().pid());
  ASSERT_EQ(cameras.size(), 1u);
  ASSERT_TRUE(webcam.process().signal(SIGKILL));
  EXPECT_TRUE(webcam.process().wait_exit(2s).has_value());
  EXPECT_TRUE(all_gone(cameras, 2s));
}

TEST(Webcam, BrokenFramesAreDroppedAndTheStreamGoesOn) {
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", "exec:" + test_bin_path("mjpeg_loop") +
                                      " --fps 40 --garbage --truncate-every 3"});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 10; }, 10s));
  const std::string state = body_of(webcam.fetch("/state"));
  EXPECT_GT(json_field(state, "frames_dropped"), 0) << state;
  EXPECT_NE(state.find("\"running\":true"), std::string::npos);
}

// A dir: folder holding a FIFO named like a picture and a picture over --max-frame-kib
// among good ones: the stream goes on with the good ones, /state says what was skipped, and
// SIGTERM still ends the program at once (a source blocked in open() would hold it).
TEST(Webcam, DirSourceSkipsAFifoAndAnOversizeFileAndSigtermStillEndsIt) {
  TempDir dir;
  Testcard card(160, 120);
  for (const char* name : {"a.jpg", "d.jpg"}) {
    std::ofstream(dir.file(name), std::ios::binary)
        << card.render(1, std::chrono::system_clock::now());
  }
  ASSERT_EQ(mkfifo(dir.file("b.jpg").c_str(), 0600), 0);
  std::ofstream(dir.file("c.jpg"), std::ios::binary) << std::string(17 << 10, 'x');
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", "dir:" + dir.path(), "--fps", "30", "--max-frame-kib", "16"});
  FcgiClient viewer = webcam.request("/stream");
  // EXPECT, not ASSERT: SIGTERM must be tried even if the frames stopped.
  EXPECT_TRUE(viewer.read_until(
      [](const std::string& out) {
        const auto numbers = frame_numbers(out);
        return !numbers.empty() && numbers.back() >= 6 && parts_done(out) >= numbers.size();
      },
      10s))
      << "the frames stopped at number "
      << (frame_numbers(viewer.out()).empty() ? 0 : frame_numbers(viewer.out()).back());
  const std::string state = body_of(webcam.fetch("/state"));
  EXPECT_TRUE(state.find("b.jpg is not a regular file") != std::string::npos ||
              state.find("c.jpg is larger than --max-frame-kib") != std::string::npos)
      << state;

  const auto start = Clock::now();
  ASSERT_TRUE(webcam.process().signal(SIGTERM));
  EXPECT_TRUE(viewer.read_to_end(5s));
  EXPECT_EQ(webcam.process().wait_exit(5s), 0);
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  // A gross bound: a hang, not the timing, is what fails here (fcgi2 waits 500 ms for the
  // client to close the connection, LIBFCGI_OS_CLOSE_POLL_TIMEOUT).
  EXPECT_LT(took.count(), 5000) << "ms from SIGTERM to exit";
  std::printf("SIGTERM to exit: %lld ms\n", static_cast<long long>(took.count()));
}

// A camera program that sends 128 KiB of start markers before each frame: more than 60,000
// dropped frames each time, cheaply, counted in /state, and one log line per 10 s.
TEST(Webcam, AFloodOfStartMarkersIsCountedNotLoggedLineByLine) {
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", "exec:" + test_bin_path("mjpeg_loop") + " --fps 20 --soi-flood 2",
                      "--max-frame-kib", "64"});
  const auto start = Clock::now();
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 10; }, 20s))
      << json_field(body_of(webcam.fetch("/state")), "frames_dropped") << " dropped";
  const std::string state = body_of(webcam.fetch("/state"));
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(Clock::now() - start);
  EXPECT_GT(json_field(state, "frames_dropped"), 10 * 32766) << state;
  const std::string log = webcam.log();
  std::size_t lines = 0;
  for (std::size_t at = log.find("warning: exec: mjpeg_loop: dropped "); at != std::string::npos;
       at = log.find("warning: exec: mjpeg_loop: dropped ", at + 1)) {
    ++lines;
  }
  EXPECT_GE(lines, 1u);
  EXPECT_LE(lines, 2 + static_cast<std::size_t>(seconds.count()) / 10) << seconds.count() << " s";
  // It stops as cleanly as ever (and a sanitizer's report would show in the status).
  ASSERT_TRUE(webcam.process().signal(SIGTERM));
  EXPECT_TRUE(viewer.read_to_end(5s));
  const auto status = webcam.process().wait_exit(5s);
  const std::string last_log = webcam.log();
  EXPECT_EQ(status, 0) << last_log.substr(last_log.size() -
                                          std::min<std::size_t>(last_log.size(), 2000));
  // What the throttle left out is counted when the source stops.
  EXPECT_NE(last_log.find("dropped frames since the last line: "), std::string::npos);
}

// The exec: child fails after 20 frames, once; the viewer keeps its connection and gets the
// last good frame again (every second) until a new child's frames come.
class ExecFault : public ::testing::TestWithParam<std::pair<std::string, std::string>> {};

TEST_P(ExecFault, ViewersSeeTheLastFrameRepeatedAndResume) {
  const auto& [how, incident] = GetParam();
  TempDir dir;
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source",
                      "exec:" + test_bin_path("mjpeg_loop") + " --fps 20 --frames 20 --then " +
                          how + " --fault-once " + dir.file("failed"),
                      "--source-timeout", "1", "--linger", "0"});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 5; }, 10s));

  // The outage: /state tells what happened.
  std::string state;
  const auto deadline = Clock::now() + 15s;
  while (json_field(state = body_of(webcam.fetch("/state")), "incidents") < 1 &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_EQ(json_field(state, "incidents"), 1) << state;
  EXPECT_NE(state.find(incident), std::string::npos) << state;
  EXPECT_NE(state.find("; restart in "), std::string::npos) << state;

  // The recovery: frames from the new child, on the same connection.
  ASSERT_TRUE(viewer.read_until(
      [](const std::string& out) {
        const auto numbers = frame_numbers(out);
        return !numbers.empty() && numbers.back() >= 25 && parts_done(out) >= numbers.size();
      },
      20s))
      << webcam.log();
  EXPECT_FALSE(viewer.ended());
  const std::vector<unsigned long> numbers = frame_numbers(viewer.out());
  std::size_t repeats = 0;
  for (std::size_t k = 1; k < numbers.size(); ++k) {
    EXPECT_GE(numbers[k], numbers[k - 1]) << "frames went backwards";
    if (numbers[k] == numbers[k - 1]) ++repeats;
  }
  EXPECT_GE(repeats, 1u) << "the last good frame was not repeated during the outage";
  state = body_of(webcam.fetch("/state"));
  EXPECT_EQ(json_field(state, "incidents"), 1) << state;
  EXPECT_NE(state.find("\"problem\":\"\""), std::string::npos) << state;
  EXPECT_NE(state.find("\"running\":true"), std::string::npos) << state;
}

INSTANTIATE_TEST_SUITE_P(
    Child, ExecFault,
    ::testing::Values(std::make_pair("crash", "child killed by signal 6"),
                      std::make_pair("hang", "child wrote nothing for 1 s; killed"),
                      std::make_pair("garbage", " bytes but no whole JPEG in 1 s; killed")),
    [](const auto& param_info) { return param_info.param.first; });

}  // namespace
}  // namespace pushcgi::test

namespace pushcgi::test {
namespace {

// A still scene (a new picture every 2 s, the same bytes 20 times a second in between):
// with --skip-unchanged only the new pictures go out, and the repeat after a second of
// quiet still does; without it every frame goes out.
TEST(Webcam, SkipUnchangedSendsOnlyNewPicturesAndStillRepeats) {
  for (const bool skip : {true, false}) {
    std::vector<std::string> args = {
        "--source", "exec:" + test_bin_path("mjpeg_loop") + " --fps 20 --still 40"};
    if (skip) args.push_back("--skip-unchanged");
    FcgiProgram webcam("webcam.fcgi", kDefaultThreads, args);
    FcgiClient viewer = webcam.request("/stream");
    viewer.read_until([](const std::string&) { return false; }, 4500ms);  // reads for 4.5 s
    const std::vector<unsigned long> frames = frame_numbers(viewer.out());
    const std::string state = body_of(webcam.fetch("/state"));
    const long in = json_field(state, "frames_in");
    const long unchanged = json_field(state, "frames_unchanged");
    ASSERT_GE(in, 40) << state;  // the camera ran all the while
    if (!skip) {
      EXPECT_EQ(unchanged, 0) << state;
      EXPECT_GE(frames.size(), 40u);
      continue;
    }
    EXPECT_GE(unchanged, in * 3 / 4) << state;
    std::set<unsigned long> pictures(frames.begin(), frames.end());
    EXPECT_GE(pictures.size(), 2u);
    EXPECT_LE(pictures.size(), 4u) << "more pictures than the scene had";
    // The last picture again after a second without a new one.
    bool repeated = false;
    for (std::size_t i = 1; i < frames.size(); ++i) repeated |= frames[i] == frames[i - 1];
    EXPECT_TRUE(repeated) << viewer.out().size();
    EXPECT_LT(frames.size(), 12u) << "unchanged frames went out";
  }
}

}  // namespace
}  // namespace pushcgi::test

namespace pushcgi::test {
namespace {

// A USB camera that delivers MJPEG, passed through ffmpeg without re-encoding
// (README: `-input_format mjpeg ... -c:v copy -f mjpeg -`): an MJPEG file stands in for
// /dev/video0. Every frame a viewer gets is byte for byte one the camera made.
TEST(Webcam, FfmpegCopyPassesACamerasJpegsThroughUnchanged) {
  TempDir dir;
  const std::string camera = dir.file("camera.mjpeg");
  std::set<std::string> made;
  {
    Testcard card(160, 120);
    std::ofstream file(camera, std::ios::binary);
    for (unsigned n = 1; n <= 100; ++n) {
      const std::string jpeg = card.render(n, std::chrono::system_clock::now());
      made.insert(jpeg);
      file << jpeg;
    }
  }
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads,
                     {"--source", "exec:ffmpeg -hide_banner -loglevel error -re -f mjpeg -i " +
                                      camera + " -c:v copy -f mjpeg -"});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 6; }, 20s))
      << webcam.log();
  const std::vector<std::string> bodies = part_bodies(viewer.out());
  ASSERT_GE(bodies.size(), 6u);
  std::set<std::string> distinct;
  for (const std::string& body : bodies) {
    EXPECT_EQ(made.count(body), 1u) << "a frame of " << body.size() << " bytes was re-encoded";
    distinct.insert(body);
  }
  EXPECT_GE(distinct.size(), 5u);
}

}  // namespace
}  // namespace pushcgi::test
