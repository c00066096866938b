// Issue 13: webcam.fcgi B relays webcam.fcgi A (`--source http://...`), each behind its own
// nginx (tools/dev-stack). A's testcard draws its frame number into the picture, and B passes
// A's JPEGs through byte for byte, so B's viewers can read back which of A's frames they got.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <thread>

#include "pushcgi/sources/testcard.hpp"
#include "stack.hpp"
#include "support/testcard_frames.hpp"
#include "testcard_viewers.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr unsigned kLinger = 1;  // B's --linger, in seconds

// B relaying A's stream through A's nginx; it connects to A with its first viewer.
std::string relay_options(const Stack& upstream) {
  return "--source http://127.0.0.1:" + std::to_string(upstream.port()) +
         "/webcam/stream --linger " + std::to_string(kLinger);
}

// Polls A's open_streams while the viewers read: every answer that is not 1 is kept.
class StreamCountWatch {
 public:
  explicit StreamCountWatch(Stack& stack)
      : thread_([this, &stack] {
          while (!stop_) {
            const long n = stack.open_streams("/webcam");
            ++samples_;
            if (n != 1) others_.push_back(n);
            std::this_thread::sleep_for(50ms);
          }
        }) {}
  ~StreamCountWatch() { finish(); }
  void finish() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  unsigned samples() const { return samples_; }
  const std::vector<long>& others() const { return others_; }

 private:
  std::atomic<bool> stop_{false};
  unsigned samples_ = 0;
  std::vector<long> others_;
  std::thread thread_;  // last: it starts once the rest exists
};

TEST(RelayChain, FiftyViewersOfTheRelaySeeItsSourcesFramesInOrderOverOneUpstreamStream) {
  constexpr std::size_t kViewers = 50;
  constexpr std::size_t kFrames = 8;  // complete parts each viewer reads
  Stack a("nginx");
  ASSERT_TRUE(a.ready()) << a.log();
  Stack b("nginx", relay_options(a));
  ASSERT_TRUE(b.ready()) << b.log();
  EXPECT_EQ(a.open_streams("/webcam"), 0) << "B connected to A before it had a viewer";

  // One viewer of B: B opens one stream of A.
  std::vector<HttpClient> viewers(kViewers);
  ASSERT_TRUE(viewers[0].get(b.port(), "/webcam/stream"));
  ASSERT_TRUE(viewers[0].read_until(has_parts(2), 20s))
      << viewers[0].response().substr(0, 300) << b.log();
  ASSERT_TRUE(a.wait_open_streams("/webcam", 1, 5s)) << a.get("/webcam/state");
  std::this_thread::sleep_for(300ms);  // a second upstream stream would show by now
  EXPECT_EQ(a.open_streams("/webcam"), 1) << a.get("/webcam/state");

  // 49 more, all reading at once, while A's /state is watched.
  for (std::size_t i = 1; i < kViewers; ++i) {
    ASSERT_TRUE(viewers[i].get(b.port(), "/webcam/stream")) << "viewer " << i;
  }
  StreamCountWatch watch(a);
  std::vector<char> served(kViewers, 0);  // not vector<bool>: one writer each
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < kViewers; ++i) {
    readers.emplace_back(
        [&, i] { served[i] = viewers[i].read_until(has_parts(kFrames + 2), 30s); });
  }
  for (std::thread& reader : readers) reader.join();
  EXPECT_EQ(b.open_streams("/webcam"), static_cast<long>(kViewers)) << b.get("/webcam/state");
  EXPECT_EQ(a.open_streams("/webcam"), 1) << a.get("/webcam/state");
  watch.finish();
  EXPECT_GE(watch.samples(), 2u);
  EXPECT_TRUE(watch.others().empty())
      << "A's open_streams was not 1 in " << watch.others().size() << " of " << watch.samples()
      << " answers; the first: " << watch.others().front();
  // A numbers its frames from 1; the picture holds the low 16 bits, enough for this test.
  const long made = json_field(a.get("/webcam/state"), "frames_in");
  ASSERT_GT(made, 0);
  ASSERT_LT(made, 65536);

  // Every viewer: whole JPEGs of A's testcard, numbers in order, each one A made,
  // and the same bytes for the same number whoever got it (passed through, not re-encoded).
  TestcardViewers frames(made);
  for (std::size_t i = 0; i < kViewers; ++i) {
    SCOPED_TRACE("viewer " + std::to_string(i));
    ASSERT_TRUE(served[i]) << viewers[i].response().substr(0, 300);
    EXPECT_EQ(viewers[i].status(), 200);
    const std::vector<std::string> bodies = part_bodies(viewers[i].response());
    ASSERT_GE(bodies.size(), kFrames);
    std::size_t advances = 0;
    ASSERT_NO_FATAL_FAILURE(frames.check(bodies, advances));
    EXPECT_GE(advances, bodies.size() / 2) << "B repeats instead of relaying";
  }
  std::printf("%zu viewers of B, %zu distinct frames of A among them, A made %ld\n", kViewers,
              frames.distinct(), made);

  // The last viewer leaves: B keeps its upstream stream for --linger, then A's stream ends.
  for (HttpClient& viewer : viewers) viewer.close();
  const auto left = Clock::now();
  ASSERT_TRUE(b.wait_open_streams("/webcam", 0, 10s)) << b.get("/webcam/state");
  const auto ended = a.wait_open_streams("/webcam", 0, std::chrono::seconds(kLinger) + 10s);
  ASSERT_TRUE(ended) << "A's stream is still open " << kLinger + 10 << " s after B's last viewer "
                     << a.get("/webcam/state") << b.log();
  const double after = std::chrono::duration<double>(Clock::now() - left).count();
  std::printf("A's stream ended %.3f s after B's last viewer left (--linger %u)\n", after, kLinger);
  // Not before the linger (less 100 ms for when the clock started against B's own).
  EXPECT_GT(after, kLinger - 0.1) << "A's stream ended before B's --linger";
  EXPECT_EQ(json_field(b.get("/webcam/state"), "open_streams"), 0);
}

TEST(RelayChain, FfmpegReadsTheRelayedStreamWithLengthFraming) {
  Stack a("nginx");
  ASSERT_TRUE(a.ready()) << a.log();
  Stack b("nginx", relay_options(a));
  ASSERT_TRUE(b.ready()) << b.log();

  // A viewer with ffmpeg's User-Agent (Lavf, ffmpeg 5.1) beside ffmpeg: what B sends ffmpeg,
  // part by part, with Content-Length.
  HttpClient reference;
  ASSERT_TRUE(reference.get(b.port(), "/webcam/stream", "Lavf/59.27.100"));
  ASSERT_TRUE(reference.read_until(has_parts(2), 20s)) << reference.response().substr(0, 300);
  std::atomic<bool> done{false};
  std::thread reading([&] {
    while (!done) reference.read_until(has_parts(100000), 200ms);
  });

  // Two outputs of one ffmpeg: the parts as it demuxed them (-c copy), and the same frames
  // decoded by its own MJPEG decoder into RGB.
  TempDir out;
  constexpr int kFrames = 10;
  constexpr int kWidth = 640;  // A's testcard
  constexpr int kHeight = 480;
  const RunResult ffmpeg =
      run_program({"/usr/bin/ffmpeg",
                   "-nostdin",
                   "-loglevel",
                   "error",
                   "-f",
                   "mpjpeg",
                   "-i",
                   "http://127.0.0.1:" + std::to_string(b.port()) + "/webcam/stream",
                   "-frames:v",
                   std::to_string(kFrames),
                   "-c",
                   "copy",
                   out.file("frame%02d.jpg"),
                   "-frames:v",
                   std::to_string(kFrames),
                   "-pix_fmt",
                   "rgb24",
                   "-f",
                   "rawvideo",
                   out.file("frames.rgb")},
                  30s);
  std::this_thread::sleep_for(300ms);  // the reference gets the last of ffmpeg's frames too
  // Two viewers of B, one stream of A: what ffmpeg read was relayed.
  EXPECT_EQ(a.open_streams("/webcam"), 1) << a.get("/webcam/state");
  done = true;
  reading.join();
  EXPECT_EQ(ffmpeg.status, 0) << ffmpeg.err << b.log();
  EXPECT_EQ(ffmpeg.err, "");

  std::map<long, std::string> sent;  // by A's frame number
  for (const std::string& body : part_bodies(reference.response())) {
    sent.emplace(testcard_number(body), body);
  }
  ASSERT_GE(sent.size(), static_cast<std::size_t>(kFrames)) << "the reference viewer's parts";
  const std::string decoded = read_file(out.file("frames.rgb"));
  constexpr std::size_t kFrameBytes = std::size_t{kWidth} * kHeight * 3;
  ASSERT_EQ(decoded.size(), kFrames * kFrameBytes) << "ffmpeg did not decode " << kFrames;
  long previous = 0;
  for (int i = 1; i <= kFrames; ++i) {
    char name[32];
    std::snprintf(name, sizeof name, "frame%02d.jpg", i);
    SCOPED_TRACE(name);
    const std::string jpeg = read_file(out.file(name));
    ASSERT_TRUE(whole_jpeg(jpeg)) << jpeg.size() << " bytes";
    const long number = testcard_number(jpeg);
    ASSERT_GE(number, 1);
    EXPECT_GE(number, previous) << "out of order (the same again is B's 1 s repeat)";
    previous = number;
    // ffmpeg's decoding of it shows the same testcard frame.
    const auto* rgb = reinterpret_cast<const std::uint8_t*>(decoded.data()) + (i - 1) * kFrameBytes;
    EXPECT_EQ(Testcard::read_pattern(rgb, kWidth, kHeight, kWidth * 3), number);
    // Exactly the part's Content-Length bytes: nothing of the framing inside, nothing cut.
    const auto same = sent.find(number);
    ASSERT_NE(same, sent.end()) << "frame " << number << " was not sent to the reference";
    EXPECT_TRUE(same->second == jpeg) << "frame " << number << " differs from what B sent";
  }
}

}  // namespace
}  // namespace pushcgi::test
