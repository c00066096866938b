// An MjpegSplitter whose drops are handed on in batches. A hostile camera can make the
// splitter drop a frame every two bytes: they go on once per feed(), with their count and
// the last one's reason, not one call (and lock) each.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "pushcgi/jpeg.hpp"

namespace pushcgi::detail {

class BatchedSplitter {
 public:
  using Drops = std::function<void(std::string_view reason, std::uint64_t count)>;

  BatchedSplitter(std::size_t max_frame_bytes, MjpegSplitter::FrameCallback on_frame,
                  Drops on_drops)
      : splitter_(max_frame_bytes, std::move(on_frame),
                  [this](std::string_view reason) { reason_.assign(reason); }),
        on_drops_(std::move(on_drops)) {}
  BatchedSplitter(const BatchedSplitter&) = delete;  // the splitter points back at it
  BatchedSplitter& operator=(const BatchedSplitter&) = delete;

  void feed(std::string_view bytes) {
    splitter_.feed(bytes);
    hand_on();
  }
  // The stream ended: a frame still open is dropped.
  void finish() {
    splitter_.finish();
    hand_on();
  }

 private:
  void hand_on() {
    if (splitter_.dropped() == handed_on_) return;
    on_drops_(reason_, splitter_.dropped() - handed_on_);
    handed_on_ = splitter_.dropped();
  }

  MjpegSplitter splitter_;
  Drops on_drops_;
  std::string reason_;  // the last drop's
  std::size_t handed_on_ = 0;
};

}  // namespace pushcgi::detail
