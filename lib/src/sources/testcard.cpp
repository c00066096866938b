#include "pushcgi/sources/testcard.hpp"

#include <turbojpeg.h>

#include <cstring>
#include <ctime>
#include <stdexcept>

namespace pushcgi {

namespace {

// 5x7 glyphs, one row per byte, the low 5 bits left to right.
struct Glyph {
  char c;
  std::uint8_t rows[7];
};
constexpr Glyph kFont[] = {
    {'0', {14, 17, 19, 21, 25, 17, 14}}, {'1', {4, 12, 4, 4, 4, 4, 14}},
    {'2', {14, 17, 1, 2, 4, 8, 31}},     {'3', {31, 2, 4, 2, 1, 17, 14}},
    {'4', {2, 6, 10, 18, 31, 2, 2}},     {'5', {31, 16, 30, 1, 1, 17, 14}},
    {'6', {6, 8, 16, 30, 17, 17, 14}},   {'7', {31, 1, 2, 4, 8, 8, 8}},
    {'8', {14, 17, 17, 14, 17, 17, 14}}, {'9', {14, 17, 17, 15, 1, 2, 12}},
    {':', {0, 12, 12, 0, 12, 12, 0}},    {'.', {0, 0, 0, 0, 0, 12, 12}},
    {'#', {10, 10, 31, 10, 31, 10, 10}}, {' ', {0, 0, 0, 0, 0, 0, 0}},
};

const Glyph* glyph(char c) {
  for (const Glyph& g : kFont) {
    if (g.c == c) return &g;
  }
  return nullptr;
}

}  // namespace

Testcard::Testcard(int width, int height, int quality)
    : width_(width), height_(height), quality_(quality), encoder_(nullptr) {
  if (width < 64 || height < 64 || width > 4096 || height > 4096) {
    throw std::invalid_argument("testcard size must be from 64x64 to 4096x4096");
  }
  background_.resize(static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
  std::uint32_t seed = 2463534242u;  // xorshift: the same grain every run
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width; ++x) {
      seed ^= seed << 13;
      seed ^= seed >> 17;
      seed ^= seed << 5;
      const int grain = static_cast<int>(seed % 20) - 10;
      std::uint8_t* p =
          &background_[(static_cast<std::size_t>(y) * static_cast<std::size_t>(width) +
                        static_cast<std::size_t>(x)) *
                       3];
      const auto clamp = [](int v) {
        return static_cast<std::uint8_t>(v < 0 ? 0 : v > 255 ? 255 : v);
      };
      p[0] = clamp(40 + 160 * x / width + grain);
      p[1] = clamp(60 + 120 * y / height + grain);
      p[2] = clamp(170 - 100 * x / width + grain);
    }
  }
  encoder_ = tjInitCompress();
  if (encoder_ == nullptr) throw std::runtime_error("tjInitCompress failed");
}

Testcard::~Testcard() {
  if (encoder_ != nullptr) tjDestroy(encoder_);
}

void Testcard::fill(int x, int y, int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b) {
  for (int row = std::max(y, 0); row < std::min(y + h, height_); ++row) {
    for (int col = std::max(x, 0); col < std::min(x + w, width_); ++col) {
      std::uint8_t* p = &rgb_[(static_cast<std::size_t>(row) * static_cast<std::size_t>(width_) +
                               static_cast<std::size_t>(col)) *
                              3];
      p[0] = r;
      p[1] = g;
      p[2] = b;
    }
  }
}

void Testcard::draw_text(const std::string& text, int x, int y, int scale) {
  for (char c : text) {
    if (const Glyph* g = glyph(c)) {
      for (int row = 0; row < 7; ++row) {
        for (int col = 0; col < 5; ++col) {
          if (g->rows[row] & (1 << (4 - col))) {
            fill(x + col * scale, y + row * scale, scale, scale, 255, 255, 255);
          }
        }
      }
    }
    x += 6 * scale;
  }
}

Testcard::Cell Testcard::pattern_cell(int bit, int width, int height) {
  const int size = std::max(8, width / (kPatternBits + 4));
  return Cell{size * 2 + bit * size, height - size * 2, size};
}

std::uint32_t Testcard::read_pattern(const std::uint8_t* rgb, int width, int height, int pitch) {
  std::uint32_t number = 0;
  for (int bit = 0; bit < kPatternBits; ++bit) {
    const Cell cell = pattern_cell(bit, width, height);
    const std::uint8_t* p =
        rgb + static_cast<std::size_t>(cell.y + cell.size / 2) * static_cast<std::size_t>(pitch) +
        static_cast<std::size_t>(cell.x + cell.size / 2) * 3;
    const int light = (p[0] + p[1] + p[2]) / 3;
    number = (number << 1) | (light > 127 ? 1u : 0u);
  }
  return number;
}

std::string Testcard::render(std::uint64_t number, std::chrono::system_clock::time_point when) {
  rgb_ = background_;
  // The moving square: one sweep across the picture every 4 seconds at 15 fps.
  const int box = height_ / 5;
  const int travel = width_ - box;
  const int x = static_cast<int>((number * static_cast<std::uint64_t>(travel) / 60) %
                                 static_cast<std::uint64_t>(travel));
  fill(x, height_ / 3, box, box, 250, 200, 40);

  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(when.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char clock[32];
  std::snprintf(clock, sizeof clock, "%02d:%02d:%02d.%03d", utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<int>(ms % 1000));
  const int scale = std::max(1, width_ / 160);
  fill(scale * 2, scale * 2, scale * (6 * 12 + 2), scale * 9, 0, 0, 0);
  draw_text(clock, scale * 3, scale * 3, scale);
  const std::string label = "#" + std::to_string(number);
  fill(scale * 2, scale * 13, scale * (6 * static_cast<int>(label.size()) + 2), scale * 9, 0, 0, 0);
  draw_text(label, scale * 3, scale * 14, scale);

  const Cell first = pattern_cell(0, width_, height_);
  fill(first.x - first.size / 2, first.y - first.size / 2, first.size * (kPatternBits + 1),
       first.size * 2, 255, 0, 0);  // a red frame around the cells
  for (int bit = 0; bit < kPatternBits; ++bit) {
    const Cell cell = pattern_cell(bit, width_, height_);
    const bool one = (number >> (kPatternBits - 1 - bit)) & 1u;
    fill(cell.x, cell.y, cell.size, cell.size, one ? 255 : 0, one ? 255 : 0, one ? 255 : 0);
  }

  unsigned char* jpeg = nullptr;
  unsigned long size = 0;
  if (tjCompress2(encoder_, rgb_.data(), width_, 0, height_, TJPF_RGB, &jpeg, &size, TJSAMP_420,
                  quality_, TJFLAG_FASTDCT) != 0) {
    throw std::runtime_error(std::string("tjCompress2: ") + tjGetErrorStr2(encoder_));
  }
  std::string out(reinterpret_cast<const char*>(jpeg), size);
  tjFree(jpeg);
  return out;
}

}  // namespace pushcgi
