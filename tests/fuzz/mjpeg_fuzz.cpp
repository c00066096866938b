// The MJPEG splitter on any byte stream: every frame it hands over runs from SOI to EOI and
// fits the limit, how the stream is cut into reads changes nothing, and the work it does is
// linear in the bytes fed, whatever they are.
//
// The first byte chooses how the reads are cut (its low 6 bits) and the frame limit (its top
// 2 bits). The small limits make the oversize and resynchronisation paths run on inputs of
// libFuzzer's default size (4,096 bytes); the seed frames (about 770 bytes) fit the two
// larger ones and not the two smaller.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "check.hpp"
#include "pushcgi/jpeg.hpp"

namespace {

constexpr std::size_t kLimits[] = {1 << 16, 1024, 512, 64};
// Work per byte fed: appending it, searching it, one more look at a marker waiting for its
// next byte, copying it into a frame, moving it when the buffer is compacted. A hostile
// stream that made the splitter go back over what it had passed would exceed it.
constexpr std::size_t kWorkPerByte = 8;

struct Split {
  std::vector<std::string> frames;
  std::size_t dropped = 0;
  std::size_t work = 0;
};

Split split(std::string_view bytes, std::size_t chunk, std::size_t limit) {
  Split result;
  pushcgi::MjpegSplitter splitter(
      limit, [&](std::string frame) { result.frames.push_back(std::move(frame)); },
      [&](std::string_view reason) {
        FUZZ_CHECK(!reason.empty());
        ++result.dropped;
      });
  for (std::size_t at = 0; at < bytes.size(); at += chunk) {
    splitter.feed(bytes.substr(at, chunk));
  }
  splitter.finish();
  result.work = splitter.work();
  return result;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t chunk = 1 + data[0] % 64;
  const std::size_t limit = kLimits[data[0] >> 6];
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  const Split whole = split(bytes, bytes.size() + 1, limit);
  for (const std::string& frame : whole.frames) {
    FUZZ_CHECK(frame.size() >= 4 && frame.size() <= limit);
    FUZZ_CHECK(static_cast<unsigned char>(frame[0]) == 0xFF &&
               static_cast<unsigned char>(frame[1]) == 0xD8);
    FUZZ_CHECK(static_cast<unsigned char>(frame[frame.size() - 2]) == 0xFF &&
               static_cast<unsigned char>(frame.back()) == 0xD9);
    pushcgi::inspect_jpeg(frame);  // libjpeg-turbo on whatever came out: no crash
  }
  FUZZ_CHECK(whole.work <= kWorkPerByte * bytes.size());
  const Split pieces = split(bytes, chunk, limit);
  FUZZ_CHECK(pieces.frames == whole.frames);
  FUZZ_CHECK(pieces.dropped == whole.dropped);
  FUZZ_CHECK(pieces.work <= kWorkPerByte * bytes.size());
  return 0;
}
