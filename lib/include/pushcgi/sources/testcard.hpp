// A generated test picture, so that the webcam demo and its tests need no camera: a colour
// gradient with some grain (real JPEG sizes), a square that moves, the time of day, and the
// frame number as a row of black and white cells that a screenshot can be read back from.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace pushcgi {

class Testcard {
 public:
  static constexpr int kPatternBits = 16;

  // Throws std::invalid_argument for sizes outside 64x64 .. 4096x4096.
  Testcard(int width, int height, int quality = 80);
  ~Testcard();
  Testcard(const Testcard&) = delete;
  Testcard& operator=(const Testcard&) = delete;

  // The JPEG of frame `number` at `when`.
  std::string render(std::uint64_t number, std::chrono::system_clock::time_point when);

  struct Cell {
    int x, y, size;
  };
  // Where bit i (0 = most significant) of the frame number's low 16 bits is drawn: white
  // for 1, black for 0.
  static Cell pattern_cell(int bit, int width, int height);
  // Reads the number back from RGB pixels (the centre of each cell), e.g. of a screenshot.
  static std::uint32_t read_pattern(const std::uint8_t* rgb, int width, int height, int pitch);

 private:
  void fill(int x, int y, int w, int h, std::uint8_t r, std::uint8_t g, std::uint8_t b);
  void draw_text(const std::string& text, int x, int y, int scale);

  int width_;
  int height_;
  int quality_;
  std::vector<std::uint8_t> background_;  // gradient and grain, made once
  std::vector<std::uint8_t> rgb_;
  void* encoder_;
};

}  // namespace pushcgi
