#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "pushcgi/jpeg.hpp"
#include "pushcgi/rate_meter.hpp"
#include "pushcgi/sources/source.hpp"
#include "pushcgi/sources/testcard.hpp"
#include "sources/http_text.hpp"
#include "support/figures.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace pushcgi {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Collects what a source emits.
class Frames {
 public:
  FrameSource::Emit emit() {
    return [this](std::string jpeg) {
      const std::lock_guard<std::mutex> lock(mutex_);
      frames_.push_back(std::move(jpeg));
      changed_.notify_all();
    };
  }
  // Waits until there are at least n frames; false after timeout (a hang, not a slow box).
  bool wait_for(std::size_t n, std::chrono::milliseconds timeout = 10s) {
    std::unique_lock<std::mutex> lock(mutex_);
    return changed_.wait_for(lock, timeout, [&] { return frames_.size() >= n; });
  }
  std::vector<std::string> frames() const {
    const std::lock_guard<std::mutex> lock(mutex_);
    return frames_;
  }

 private:
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::string> frames_;
};

// The same bytes for the same number (the time drawn in is fixed).
std::string jpeg(std::uint64_t number) {
  static Testcard card(96, 64);
  return card.render(number, std::chrono::system_clock::time_point{});
}

void write_file(const std::string& path, const std::string& data) {
  std::ofstream(path, std::ios::binary) << data;
}

// Waits until the source's status is not empty; what it is then ("" after timeout).
std::string wait_for_status(const FrameSource& source, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (source.status().empty() && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  return source.status();
}

// A FIFO named like a picture. While it lives, it opens the FIFO for writing (and closes
// it) every few milliseconds, so that code blocked in open() on it gets out and a test of
// that code fails instead of hanging.
class Fifo {
 public:
  explicit Fifo(const std::string& path) : path_(path) {
    if (mkfifo(path.c_str(), 0600) != 0) ADD_FAILURE() << "mkfifo " << path;
    releaser_ = std::thread([this] {
      while (!done_) {
        const int fd = ::open(path_.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (fd >= 0) ::close(fd);
        std::this_thread::sleep_for(5ms);
      }
    });
  }
  ~Fifo() {
    done_ = true;
    releaser_.join();
  }
  Fifo(const Fifo&) = delete;
  Fifo& operator=(const Fifo&) = delete;

 private:
  std::string path_;
  std::atomic<bool> done_{false};
  std::thread releaser_;
};

// stop() must come back at once; the bound only catches a hang.
void expect_prompt_stop(FrameSource& source) {
  const auto start = Clock::now();
  source.stop();
  EXPECT_LT(Clock::now() - start, 1s);
}

TEST(SplitWords, LikeAShellWithoutOne) {
  EXPECT_EQ(*split_words("ffmpeg -f v4l2 -i /dev/video0"),
            (std::vector<std::string>{"ffmpeg", "-f", "v4l2", "-i", "/dev/video0"}));
  EXPECT_EQ(*split_words("prog 'a b' \"c \\\"d\\\"\" e\\ f  $HOME;rm"),
            (std::vector<std::string>{"prog", "a b", "c \"d\"", "e f", "$HOME;rm"}));
  EXPECT_EQ(split_words("prog 'open").error(), "unclosed quote");
  EXPECT_EQ(split_words("   ").error(), "no program given");
}

TEST(MakeSource, Specs) {
  SourceOptions options;
  EXPECT_EQ((*make_source("testcard", options))->describe(), "testcard 640x480 at 15 fps");
  EXPECT_EQ((*make_source("file:/tmp/cam.jpg", options))->describe(), "file:/tmp/cam.jpg");
  // The program's name only: arguments may hold a password.
  EXPECT_EQ((*make_source("exec:/usr/bin/ffmpeg -i rtsp://u:pw@cam/", options))->describe(),
            "exec: ffmpeg");
  SourceOptions labelled;
  labelled.label = "Front door";
  EXPECT_EQ((*make_source("exec:ffmpeg -i rtsp://u:pw@cam/", labelled))->describe(), "Front door");
  EXPECT_EQ((*make_source("testcard", labelled))->describe(), "Front door");
  EXPECT_EQ(make_source("camera", options).error(),
            "expected testcard, file:PATH, dir:PATH, exec:PROGRAM ARGS..., http(s)://URL or "
            "redis://HOST[:PORT]/CHANNEL");
  EXPECT_FALSE(make_source("file:", options));
  EXPECT_EQ(make_source("exec:", options).error(), "exec: no program given");
}

// describe() goes to /state and the log: an IP camera's URL without its user-info, query
// (cheap cameras take ?user=admin&pwd=...) or fragment.
TEST(HttpSource, DescribeHidesUserInfoQueryAndFragment) {
  SourceOptions options;
  const auto describe = [&](const std::string& url) {
    auto made = make_source(url, options);
    return made ? (*made)->describe() : "refused: " + made.error();
  };
  EXPECT_EQ(describe("http://cam.example/video.cgi"), "http://cam.example/video.cgi");
  EXPECT_EQ(describe("http://admin:s3cret@192.168.1.20:8080/mjpg/video.mjpg"),
            "http://192.168.1.20:8080/mjpg/video.mjpg");
  EXPECT_EQ(describe("https://admin@cam.example/snapshot.cgi?user=admin&pwd=s3cret#x"),
            "https://cam.example/snapshot.cgi");
  EXPECT_EQ(describe("HTTP://user:pw@[::1]:81"), "http://[::1]:81/");
  options.label = "Front door";
  EXPECT_EQ(describe("http://u:p@cam/"), "Front door");
}

TEST(HttpSource, OnlyHttpAndHttpsUrlsAreSources) {
  const SourceOptions options;
  EXPECT_TRUE(make_source("http://cam/video", options));
  EXPECT_TRUE(make_source("https://cam/video", options));
  EXPECT_EQ(make_source("ftp://user:pw@cam/pic.jpg", options).error(),
            "unsupported URL scheme 'ftp': expected http:// or https://");
  EXPECT_EQ(make_source("rtsp://cam/stream", options).error(),
            "unsupported URL scheme 'rtsp': expected http:// or https://");
  EXPECT_EQ(make_source("file:///tmp/cam.jpg", options).error(),
            "file:// URLs are not sources: use file:PATH for a picture that another program "
            "rewrites");
  // A URL curl cannot parse is refused without being quoted (it may hold a password).
  const auto bad = make_source("http://admin:s3cret@[::1/", options);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().rfind("not a valid URL: ", 0), 0u) << bad.error();
  EXPECT_EQ(bad.error().find("s3cret"), std::string::npos);
  // Not URLs: a file: path that happens to hold "://" further on is still a path.
  EXPECT_EQ((*make_source("file:/srv/a://b.jpg", options))->describe(), "file:/srv/a://b.jpg");
}

// A camera that accepts the connection and never answers: stop() does not wait for it (nor
// for the watchdog), and the status says nothing was wrong yet.
TEST(HttpSource, StopsAtOnceWhileTheCameraDoesNotAnswer) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 4), 0);  // the kernel completes the connection; nobody reads
  socklen_t size = sizeof address;
  getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  auto source = std::move(
      make_source("http://127.0.0.1:" + std::to_string(ntohs(address.sin_port)) + "/video",
                  SourceOptions{})
          .value());
  Frames frames;
  source->start(frames.emit());
  std::this_thread::sleep_for(300ms);
  const auto start = Clock::now();
  source->stop();
  const auto took = Clock::now() - start;
  EXPECT_LT(took, 100ms);
  EXPECT_EQ(source->status(), "");
  EXPECT_EQ(source->incidents().count, 0u);
  ::close(listener);
}

// curl's own timeout is the connect's (the watchdog, which is not curl's, has its words).
TEST(HttpSource, CurlsTimeoutIsToldAsNoAnswerToTheConnect) {
  EXPECT_EQ(detail::failure_words(CURLE_OPERATION_TIMEDOUT, 0, 0),
            "cannot connect: no answer in 10 s");
}

// The same while the camera's name is being resolved: curl's resolver thread is not waited
// for. In a program of its own, whose getaddrinfo() takes 5 s (slow_resolve.cpp).
TEST(HttpSource, StopsAtOnceWhileTheHostIsBeingResolved) {
  const test::RunResult run = test::run_program({test::test_bin_path("slow_resolve")});
  ASSERT_EQ(run.status, 0) << run.out << run.err;
  const std::string prefix = "stopped in ";
  ASSERT_EQ(run.out.rfind(prefix, 0), 0u) << run.out;
  EXPECT_LT(std::stol(run.out.substr(prefix.size())), 100) << run.out;
  EXPECT_NE(run.out.find(" while resolving"), std::string::npos)
      << run.out << "(libcurl did not call the stand-in getaddrinfo: the test proves nothing)";
}

TEST(HttpSource, ARefusedConnectionIsToldInWordsAndRetried) {
  const int port = test::free_port();
  auto source = std::move(
      make_source("http://127.0.0.1:" + std::to_string(port) + "/", SourceOptions{}).value());
  Frames frames;
  source->start(frames.emit());
  EXPECT_EQ(wait_for_status(*source), "cannot connect: connection refused; retry in 2 s");
  source->stop();
  EXPECT_EQ(source->incidents().count, 1u);
  EXPECT_NE(source->incidents().last.find(": cannot connect: connection refused"),
            std::string::npos);
}

TEST(TestcardSource, EmitsJpegsOfTheSizeAsked) {
  SourceOptions options;
  options.fps = 50;
  options.width = 320;
  options.height = 240;
  auto source = std::move(make_source("testcard", options).value());
  Frames frames;
  source->start(frames.emit());
  ASSERT_TRUE(frames.wait_for(5));
  source->stop();
  const std::size_t count = frames.frames().size();
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(frames.frames().size(), count);  // nothing after stop()
  const auto info = inspect_jpeg(frames.frames()[0]);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->width, 320);
  EXPECT_EQ(info->height, 240);
  EXPECT_NE(frames.frames()[0], frames.frames()[1]);
}

TEST(DirSource, LoopsOverTheJpegsInNameOrder) {
  test::TempDir dir;
  const std::string a = jpeg(1), b = jpeg(2), c = jpeg(3);
  write_file(dir.file("c.jpg"), c);
  write_file(dir.file("a.JPG"), a);
  write_file(dir.file("b.jpeg"), b);
  write_file(dir.file("notes.txt"), "not a picture");
  SourceOptions options;
  options.fps = 100;
  auto source = std::move(make_source("dir:" + dir.path(), options).value());
  Frames frames;
  source->start(frames.emit());
  ASSERT_TRUE(frames.wait_for(5));
  source->stop();
  const auto got = frames.frames();
  EXPECT_EQ(got[0], a);
  EXPECT_EQ(got[1], b);
  EXPECT_EQ(got[2], c);
  EXPECT_EQ(got[3], a);
}

TEST(DirSource, SkipsAFifoAndAnOversizeFileAndGoesOnWithTheGoodOnes) {
  test::TempDir dir;
  const std::string a = jpeg(1), d = jpeg(4);
  write_file(dir.file("a.jpg"), a);
  const Fifo fifo(dir.file("b.jpg"));
  SourceOptions options;
  options.fps = 100;
  options.max_frame_bytes = 16 << 10;
  write_file(dir.file("c.jpg"), a + std::string(options.max_frame_bytes, 'x'));
  write_file(dir.file("d.jpg"), d);
  auto source = std::move(make_source("dir:" + dir.path(), options).value());
  Frames frames;
  source->start(frames.emit());
  const bool four = frames.wait_for(4);
  const std::string status = source->status();
  expect_prompt_stop(*source);
  ASSERT_TRUE(four);
  std::vector<std::string> shown;
  for (const std::string& frame : frames.frames()) {
    shown.push_back(frame == a   ? "a.jpg"
                    : frame == d ? "d.jpg"
                                 : std::to_string(frame.size()) + " other bytes");
  }
  shown.resize(4);
  EXPECT_EQ(shown, (std::vector<std::string>{"a.jpg", "d.jpg", "a.jpg", "d.jpg"}));
  EXPECT_TRUE(status == dir.file("b.jpg") + " is not a regular file" ||
              status == dir.file("c.jpg") + " is larger than --max-frame-kib")
      << status;
}

TEST(DirSource, NothingButUnusableFilesIsReportedWithoutSpinning) {
  test::TempDir dir;
  const Fifo fifo(dir.file("only.jpg"));
  auto source = std::move(make_source("dir:" + dir.path(), SourceOptions{}).value());
  Frames frames;
  const double cpu_before = test::self_cpu_seconds();
  source->start(frames.emit());
  EXPECT_EQ(wait_for_status(*source), dir.file("only.jpg") + " is not a regular file");
  std::this_thread::sleep_for(300ms);  // the time to spin, if it did
  expect_prompt_stop(*source);
  EXPECT_LT(test::self_cpu_seconds() - cpu_before, 0.2);
  EXPECT_TRUE(frames.frames().empty());
}

TEST(FileSource, AFifoOrAnOversizeFileIsRefusedAndTheNextGoodFileShown) {
  test::TempDir dir;
  const std::string path = dir.file("cam.jpg");
  SourceOptions options;
  options.max_frame_bytes = 16 << 10;
  auto source = std::move(make_source("file:" + path, options).value());
  Frames frames;
  {
    const Fifo fifo(path);
    source->start(frames.emit());
    EXPECT_EQ(wait_for_status(*source), path + " is not a regular file");
  }
  // An oversize picture renamed into place: refused, not cut short.
  write_file(dir.file("big.tmp"), jpeg(1) + std::string(options.max_frame_bytes, 'x'));
  ASSERT_EQ(std::rename(dir.file("big.tmp").c_str(), path.c_str()), 0);
  const auto deadline = Clock::now() + 10s;
  while (source->status() != path + " is larger than --max-frame-kib" && Clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  EXPECT_EQ(source->status(), path + " is larger than --max-frame-kib");
  write_file(dir.file("good.tmp"), jpeg(2));
  ASSERT_EQ(std::rename(dir.file("good.tmp").c_str(), path.c_str()), 0);
  ASSERT_TRUE(frames.wait_for(1));
  expect_prompt_stop(*source);
  ASSERT_EQ(frames.frames().size(), 1u);
  EXPECT_TRUE(frames.frames()[0] == jpeg(2)) << frames.frames()[0].size() << " bytes";
  EXPECT_EQ(source->status(), "");
}

TEST(FileSource, AFrameWhenTheFileIsReplacedOrRewritten) {
  test::TempDir dir;
  const std::string path = dir.file("cam.jpg");
  write_file(path, jpeg(1));
  auto source = std::move(make_source("file:" + path, SourceOptions{}).value());
  Frames frames;
  source->start(frames.emit());
  ASSERT_TRUE(frames.wait_for(1));  // the picture that was there
  EXPECT_EQ(frames.frames()[0], jpeg(1));

  // Renamed into place, as careful webcam software does.
  write_file(dir.file("cam.jpg.tmp"), jpeg(2));
  ASSERT_EQ(std::rename(dir.file("cam.jpg.tmp").c_str(), path.c_str()), 0);
  ASSERT_TRUE(frames.wait_for(2));
  EXPECT_EQ(frames.frames()[1], jpeg(2));

  // Rewritten in place, slowly: nothing is read before the writer closes the file.
  const std::string third = jpeg(3);
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(third.data(), static_cast<std::streamsize>(third.size() / 2));
    out.flush();
    std::this_thread::sleep_for(100ms);
    EXPECT_EQ(frames.frames().size(), 2u) << "read a half-written file";
    out.write(third.data() + third.size() / 2,
              static_cast<std::streamsize>(third.size() - third.size() / 2));
  }
  ASSERT_TRUE(frames.wait_for(3));
  EXPECT_EQ(frames.frames()[2], third);

  write_file(dir.file("other.jpg"), jpeg(4));  // another file in the folder: ignored
  std::this_thread::sleep_for(100ms);
  source->stop();
  EXPECT_EQ(frames.frames().size(), 3u);
}

TEST(ExecSource, SplitsTheChildsOutputAndStopsIt) {
  SourceOptions options;
  auto source = std::move(
      make_source("exec:" + test::test_bin_path("mjpeg_loop") + " --fps 50 --garbage", options)
          .value());
  Frames frames;
  source->start(frames.emit());
  ASSERT_TRUE(frames.wait_for(5));
  EXPECT_EQ(test::descendants_named(getpid(), "mjpeg_loop").size(), 1u);
  for (const std::string& frame : frames.frames()) EXPECT_TRUE(inspect_jpeg(frame));
  source->stop();
  EXPECT_EQ(test::descendants_named(getpid(), "mjpeg_loop").size(), 0u);
  EXPECT_EQ(source->status(), "");
}

TEST(ExecSource, RestartsAChildThatExits) {
  auto source =
      std::move(make_source("exec:" + test::test_bin_path("mjpeg_loop") + " --fps 100 --frames 2",
                            SourceOptions{})
                    .value());
  Frames frames;
  source->start(frames.emit());
  ASSERT_TRUE(frames.wait_for(2));
  const auto deadline = Clock::now() + 5s;
  while (source->status().empty() && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  // It ran for less than 10 s: the backoff doubles from 1 s.
  EXPECT_EQ(source->status(), "child exited with status 0; restart in 2 s");
  ASSERT_TRUE(frames.wait_for(3));  // the second run's first frame
  EXPECT_EQ(source->status(), "");
  source->stop();
}

TEST(ExecSource, AProgramThatCannotStartIsReported) {
  auto source = std::move(make_source("exec:/nonexistent/camera", SourceOptions{}).value());
  Frames frames;
  source->start(frames.emit());
  const auto deadline = Clock::now() + 5s;
  while (source->status().empty() && Clock::now() < deadline) std::this_thread::sleep_for(10ms);
  EXPECT_EQ(source->status().rfind("child exited with status 127", 0), 0u) << source->status();
  source->stop();
  EXPECT_TRUE(frames.frames().empty());
}

TEST(RateMeter, CountsOverTheLastTwoSeconds) {
  RateMeter meter;
  EXPECT_EQ(meter.per_second(), 0);
  meter.add(19);
  EXPECT_EQ(meter.total(), 19u);
  std::this_thread::sleep_for(150ms);  // into the next 100 ms bucket at least
  EXPECT_NEAR(meter.per_second(), 10.0, 0.01);
}

}  // namespace
}  // namespace pushcgi
