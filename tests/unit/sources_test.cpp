#include <dirent.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <thread>

#include "pushcgi/jpeg.hpp"
#include "pushcgi/rate_meter.hpp"
#include "pushcgi/sources/source.hpp"
#include "pushcgi/sources/testcard.hpp"
#include "support/figures.hpp"
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
            "expected testcard, file:PATH, dir:PATH or exec:PROGRAM ARGS...");
  EXPECT_FALSE(make_source("file:", options));
  EXPECT_EQ(make_source("exec:", options).error(), "exec: no program given");
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
