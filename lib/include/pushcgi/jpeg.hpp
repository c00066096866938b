// JPEG frames: checking what a source hands over, and splitting an MJPEG byte stream
// (ffmpeg -f mjpeg, libcamera-vid --codec mjpeg, gst-launch ... ! jpegenc) into frames.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace pushcgi {

struct JpegInfo {
  int width = 0;
  int height = 0;
};

// The picture's size if data is one whole baseline or progressive JPEG: SOI first, EOI last,
// and a header libjpeg-turbo can read. Nothing for anything else (a half-written file, an
// HTML error page, a truncated frame).
std::optional<JpegInfo> inspect_jpeg(std::string_view data);

// Splits a byte stream into JPEG frames by walking their marker segments (ITU T.81 B.1),
// so that an embedded EXIF thumbnail's markers do not end a frame early. Bytes between
// frames are skipped; a frame that grows past max_frame_bytes, or is cut short by the next
// SOI, is dropped and reported.
class MjpegSplitter {
 public:
  using FrameCallback = std::function<void(std::string frame)>;
  using DropCallback = std::function<void(std::string_view reason)>;

  MjpegSplitter(std::size_t max_frame_bytes, FrameCallback on_frame, DropCallback on_drop);

  void feed(std::string_view bytes);
  // The stream ended: a frame still open is dropped.
  void finish();

  std::size_t frames() const { return frames_; }
  std::size_t dropped() const { return dropped_; }
  std::size_t skipped_bytes() const { return skipped_bytes_; }

 private:
  enum class State { seek_soi, marker, entropy };
  void drop(std::string_view reason);
  void seek_soi();

  std::size_t max_frame_bytes_;
  FrameCallback on_frame_;
  DropCallback on_drop_;
  std::string buffer_;   // bytes from the current frame's SOI on (or unsearched bytes)
  std::size_t pos_ = 0;  // how far buffer_ has been parsed
  State state_ = State::seek_soi;
  std::size_t frames_ = 0;
  std::size_t dropped_ = 0;
  std::size_t skipped_bytes_ = 0;
};

}  // namespace pushcgi
