// The MJPEG splitter on any byte stream: every frame it hands over runs from SOI to EOI and
// fits the limit, and how the stream is cut into reads changes nothing.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "pushcgi/jpeg.hpp"

namespace {

constexpr std::size_t kMaxFrame = 1 << 16;

struct Split {
  std::vector<std::string> frames;
  std::size_t dropped = 0;
};

Split split(std::string_view bytes, std::size_t chunk) {
  Split result;
  pushcgi::MjpegSplitter splitter(
      kMaxFrame, [&](std::string frame) { result.frames.push_back(std::move(frame)); },
      [&](std::string_view reason) {
        FUZZ_CHECK(!reason.empty());
        ++result.dropped;
      });
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    splitter.feed(bytes.substr(at, chunk));
  }
  splitter.finish();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;  // the first byte: how the reads are cut
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Split whole = split(bytes, bytes.size() + 1);
  for (const std::string& frame : whole.frames) {
    FUZZ_CHECK(frame.size() >= 4 && frame.size() <= kMaxFrame);
    FUZZ_CHECK(static_cast<unsigned char>(frame[0]) == 0xFF &&
               static_cast<unsigned char>(frame[1]) == 0xD8);
    FUZZ_CHECK(static_cast<unsigned char>(frame[frame.size() - 2]) == 0xFF &&
               static_cast<unsigned char>(frame.back()) == 0xD9);
    pushcgi::inspect_jpeg(frame);  // libjpeg-turbo on whatever came out: no crash
  }
  const Split pieces = split(bytes, chunk);
  FUZZ_CHECK(pieces.frames == whole.frames);
  FUZZ_CHECK(pieces.dropped == whole.dropped);
  return 0;
}
