#include "support/testcard_frames.hpp"

#include <turbojpeg.h>

#include <memory>
#include <vector>

#include "pushcgi/sources/testcard.hpp"

namespace pushcgi::test {

long testcard_number(const std::string& jpeg) {
  const std::unique_ptr<void, int (*)(tjhandle)> decoder(tjInitDecompress(), tjDestroy);
  auto* bytes = reinterpret_cast<const unsigned char*>(jpeg.data());
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  if (tjDecompressHeader3(decoder.get(), bytes, jpeg.size(), &width, &height, &subsampling,
                          &colorspace) != 0) {
    return -1;
  }
  std::vector<unsigned char> rgb(static_cast<std::size_t>(width) * height * 3);
  if (tjDecompress2(decoder.get(), bytes, jpeg.size(), rgb.data(), width, 0, height, TJPF_RGB, 0) !=
      0) {
    return -1;
  }
  return Testcard::read_pattern(rgb.data(), width, height, width * 3);
}

bool whole_jpeg(const std::string& bytes) {
  return bytes.size() >= 4 && bytes.compare(0, 2, "\xFF\xD8") == 0 &&
         bytes.compare(bytes.size() - 2, 2, "\xFF\xD9") == 0;
}

}  // namespace pushcgi::test
