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
// frames are skipped. A frame that would end past max_frame_bytes is dropped as soon as
// that is certain, and the search for the next SOI goes on from where the frame went over;
// a frame cut short by the next SOI is dropped and the new one kept; a corrupt frame is
// dropped and the search goes on from the corruption. Each drop is reported.
//
// Whatever the bytes (a hostile camera program's output included), the work done is at
// most a small constant times the bytes fed: the parse never goes back over bytes it has
// passed, and the buffer is compacted once per feed(). How the stream is cut into feeds
// changes neither the frames nor the drops.
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
  // Bytes looked at, copied or moved so far, for the tests of the bound above.
  std::size_t work() const { return work_; }

 private:
  enum class State { seek_soi, marker, entropy };
  // Each step returns false when it needs more bytes.
  bool seek_soi();
  bool scan_entropy();
  bool take_marker();
  bool take_segment(std::size_t at, unsigned char code);
  void start_frame(std::size_t at);
  void lose_frame(std::string_view reason, std::size_t resume_at);
  void drop(std::string_view reason);
  void compact();
  // The first position where a marker would make the current frame too large.
  std::size_t marker_limit() const { return start_ + max_frame_bytes_ - 1; }

  std::size_t max_frame_bytes_;
  FrameCallback on_frame_;
  DropCallback on_drop_;
  std::string buffer_;     // the current frame from its SOI, or bytes still to search
  std::size_t start_ = 0;  // the current frame's SOI in buffer_
  std::size_t pos_ = 0;    // how far buffer_ has been parsed
  State state_ = State::seek_soi;
  std::size_t frames_ = 0;
  std::size_t dropped_ = 0;
  std::size_t skipped_bytes_ = 0;
  std::size_t work_ = 0;
};

}  // namespace pushcgi
