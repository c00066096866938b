#include "pushcgi/jpeg.hpp"

#include <gtest/gtest.h>
#include <turbojpeg.h>

#include <algorithm>
#include <vector>

#include "pushcgi/sources/testcard.hpp"
#include "support/soi_flood.hpp"

namespace pushcgi {
namespace {

std::string frame(std::uint64_t number) {
  static Testcard card(160, 120);
  return card.render(number, std::chrono::system_clock::now());
}

struct Collected {
  std::vector<std::string> frames;
  std::vector<std::string> drops;
  MjpegSplitter splitter{1 << 20, [this](std::string f) { frames.push_back(std::move(f)); },
                         [this](std::string_view reason) { drops.emplace_back(reason); }};
};

TEST(Jpeg, InspectAcceptsWholeJpegsOnly) {
  const std::string jpeg = frame(1);
  const auto info = inspect_jpeg(jpeg);
  ASSERT_TRUE(info);
  EXPECT_EQ(info->width, 160);
  EXPECT_EQ(info->height, 120);
  EXPECT_FALSE(inspect_jpeg(jpeg.substr(0, jpeg.size() / 2)));  // half written
  EXPECT_FALSE(inspect_jpeg("<html>502 Bad Gateway</html>"));
  EXPECT_FALSE(inspect_jpeg(""));
  EXPECT_FALSE(inspect_jpeg(std::string("\xFF\xD8\xFF\xD9", 4)));  // markers but no header
}

TEST(MjpegSplitter, WholeFramesInOneRead) {
  Collected c;
  const std::string a = frame(1), b = frame(2);
  c.splitter.feed(a + b);
  ASSERT_EQ(c.frames.size(), 2u);
  EXPECT_EQ(c.frames[0], a);
  EXPECT_EQ(c.frames[1], b);
  EXPECT_TRUE(c.drops.empty());
}

TEST(MjpegSplitter, FramesSplitAcrossReads) {
  Collected c;
  const std::string stream = frame(1) + frame(2) + frame(3);
  for (std::size_t step : {std::size_t{1}, std::size_t{7}, std::size_t{4096}}) {
    c.frames.clear();
    for (std::size_t at = 0; at < stream.size(); at += step)
      c.splitter.feed(stream.substr(at, step));
    ASSERT_EQ(c.frames.size(), 3u) << "step " << step;
    EXPECT_EQ(c.frames[0] + c.frames[1] + c.frames[2], stream);
  }
  EXPECT_TRUE(c.drops.empty());
}

TEST(MjpegSplitter, GarbageBetweenFramesIsSkipped) {
  Collected c;
  const std::string a = frame(1), b = frame(2);
  c.splitter.feed("HTTP/1.0 200 OK\r\n\r\n\xFF\xFF junk" + a + "\r\n--boundary\r\n\xFF" + b +
                  "tail");
  ASSERT_EQ(c.frames.size(), 2u);
  EXPECT_EQ(c.frames[0], a);
  EXPECT_EQ(c.frames[1], b);
  EXPECT_GT(c.splitter.skipped_bytes(), 20u);
}

TEST(MjpegSplitter, TruncatedFrameIsDroppedAndTheNextKept) {
  Collected c;
  const std::string a = frame(1), b = frame(2);
  c.splitter.feed(a.substr(0, a.size() / 2) + b);
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0], b);
  ASSERT_EQ(c.drops.size(), 1u);
  EXPECT_EQ(c.drops[0], "truncated frame: a new one started before its end");
}

TEST(MjpegSplitter, StreamEndingInsideAFrame) {
  Collected c;
  const std::string a = frame(1);
  c.splitter.feed(a.substr(0, 100));
  c.splitter.finish();
  EXPECT_TRUE(c.frames.empty());
  EXPECT_EQ(c.splitter.dropped(), 1u);
}

TEST(MjpegSplitter, OversizedFrameIsDropped) {
  std::vector<std::string> frames;
  std::vector<std::string> drops;
  MjpegSplitter splitter(
      2000, [&](std::string f) { frames.push_back(std::move(f)); },
      [&](std::string_view reason) { drops.emplace_back(reason); });
  const std::string big = frame(1);  // about 5 KB
  ASSERT_GT(big.size(), 2000u);
  std::string small = "\xFF\xD8\xFF\xD9";  // structurally whole, 4 bytes
  splitter.feed(big + small);
  ASSERT_EQ(drops.size(), 1u);
  EXPECT_EQ(drops[0], "frame larger than --max-frame-kib");
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], small);
}

// Feeds in the 64 KiB reads of the exec: source.
void feed_in_reads(MjpegSplitter& splitter, const std::string& stream) {
  for (std::size_t at = 0; at < stream.size(); at += 65536) splitter.feed(stream.substr(at, 65536));
}

TEST(MjpegSplitter, WorkStaysLinearOnAFloodOfStartMarkers) {
  std::vector<std::string> frames;
  std::size_t drops = 0;
  MjpegSplitter splitter(
      16 << 10, [&](std::string f) { frames.push_back(std::move(f)); },
      [&](std::string_view) { ++drops; });
  const std::string good = frame(1);
  const std::string stream = test::soi_flood(4) + good;
  feed_in_reads(splitter, stream);
  EXPECT_LE(splitter.work(), 4 * stream.size()) << drops << " drops";
  EXPECT_GT(drops, 0u);
  ASSERT_EQ(frames.size(), 1u);  // the good frame after the flood
  EXPECT_EQ(frames[0], good);
}

TEST(MjpegSplitter, AFrameWithinTheLimitIsKeptWhateverTheReadHoldsAfterIt) {
  std::vector<std::string> frames;
  std::vector<std::string> drops;
  const std::string a = frame(1), b = frame(2);
  MjpegSplitter splitter(
      std::max(a.size(), b.size()), [&](std::string f) { frames.push_back(std::move(f)); },
      [&](std::string_view reason) { drops.emplace_back(reason); });
  splitter.feed(a + b);  // one read larger than the limit, two frames within it
  ASSERT_EQ(frames.size(), 2u) << (drops.empty() ? "" : drops[0]);
  EXPECT_EQ(frames[0], a);
  EXPECT_EQ(frames[1], b);
}

TEST(MjpegSplitter, MarkersInsideSegmentsDoNotEndTheFrame) {
  // An APP1 segment (EXIF) holding a whole thumbnail JPEG: its EOI must not end the frame.
  Collected c;
  const std::string main = frame(1);
  const std::string thumbnail = "\xFF\xD8\xFF\xD9";
  std::string app1 = "\xFF\xE1";
  const std::size_t length = 2 + thumbnail.size();
  app1 += static_cast<char>(length >> 8);
  app1 += static_cast<char>(length & 0xFF);
  app1 += thumbnail;
  const std::string with_exif = main.substr(0, 2) + app1 + main.substr(2);
  c.splitter.feed(with_exif);
  ASSERT_EQ(c.frames.size(), 1u);
  EXPECT_EQ(c.frames[0], with_exif);
}

TEST(Testcard, FramesAreJpegsOfTheAskedSizeWithTheirNumber) {
  Testcard card(640, 480);
  tjhandle decoder = tjInitDecompress();
  std::vector<unsigned char> rgb(640 * 480 * 3);
  for (std::uint64_t number : {0ull, 1ull, 4660ull, 65535ull, 65536ull + 7}) {
    const std::string jpeg = card.render(number, std::chrono::system_clock::now());
    const auto info = inspect_jpeg(jpeg);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->width, 640);
    EXPECT_EQ(info->height, 480);
    ASSERT_EQ(tjDecompress2(decoder, reinterpret_cast<const unsigned char*>(jpeg.data()),
                            jpeg.size(), rgb.data(), 640, 0, 480, TJPF_RGB, 0),
              0);
    EXPECT_EQ(Testcard::read_pattern(rgb.data(), 640, 480, 640 * 3), number & 0xFFFF) << number;
  }
  tjDestroy(decoder);
}

TEST(Testcard, SizesOutOfRangeAreRefused) {
  EXPECT_THROW(Testcard(10, 10), std::invalid_argument);
  EXPECT_THROW(Testcard(640, 5000), std::invalid_argument);
}

}  // namespace
}  // namespace pushcgi
