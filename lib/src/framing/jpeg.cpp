#include "pushcgi/jpeg.hpp"

#include <turbojpeg.h>

#include <algorithm>
#include <cstring>
#include <memory>

namespace pushcgi {

namespace {

unsigned char byte_at(std::string_view data, std::size_t i) {
  return static_cast<unsigned char>(data[i]);
}

// The first FF in data[from, end), or end.
std::size_t find_ff(std::string_view data, std::size_t from, std::size_t end) {
  if (from >= end) return end;
  const void* found = std::memchr(data.data() + from, 0xFF, end - from);
  return found == nullptr ? end
                          : static_cast<std::size_t>(static_cast<const char*>(found) - data.data());
}

struct TjDeleter {
  void operator()(void* handle) const { tjDestroy(handle); }
};

}  // namespace

std::optional<JpegInfo> inspect_jpeg(std::string_view data) {
  if (data.size() < 4 || byte_at(data, 0) != 0xFF || byte_at(data, 1) != 0xD8 ||
      byte_at(data, data.size() - 2) != 0xFF || byte_at(data, data.size() - 1) != 0xD9) {
    return std::nullopt;
  }
  // One decompressor per thread: creating one costs more than reading a header.
  thread_local std::unique_ptr<void, TjDeleter> handle(tjInitDecompress());
  if (!handle) return std::nullopt;
  int width = 0;
  int height = 0;
  int subsampling = 0;
  int colorspace = 0;
  if (tjDecompressHeader3(handle.get(), reinterpret_cast<const unsigned char*>(data.data()),
                          static_cast<unsigned long>(data.size()), &width, &height, &subsampling,
                          &colorspace) != 0 ||
      width <= 0 || height <= 0) {  // a tables-only datastream has a header but no picture
    return std::nullopt;
  }
  return JpegInfo{width, height};
}

MjpegSplitter::MjpegSplitter(std::size_t max_frame_bytes, FrameCallback on_frame,
                             DropCallback on_drop)
    // Below 4 bytes (SOI + EOI) every frame is too large anyway; 2 keeps marker_limit() sane.
    : max_frame_bytes_(std::max<std::size_t>(max_frame_bytes, 2)),
      on_frame_(std::move(on_frame)),
      on_drop_(std::move(on_drop)) {}

void MjpegSplitter::feed(std::string_view bytes) {
  buffer_.append(bytes);
  work_ += bytes.size();
  for (bool going = true; going;) {
    switch (state_) {
      case State::seek_soi:
        going = seek_soi();
        break;
      case State::entropy:
        going = scan_entropy();
        break;
      case State::marker:
        going = take_marker();
        break;
    }
  }
  compact();
}

void MjpegSplitter::finish() {
  if (state_ != State::seek_soi) drop("truncated frame: the stream ended inside it");
  buffer_.clear();
  start_ = 0;
  pos_ = 0;
  state_ = State::seek_soi;
}

// Looks for FF D8 from pos_; the last byte stays unsearched, it may be the FF of one.
bool MjpegSplitter::seek_soi() {
  const std::size_t end = buffer_.empty() ? 0 : buffer_.size() - 1;
  std::size_t i = pos_;
  while (i < end) {
    i = find_ff(buffer_, i, end);
    if (i < end && byte_at(buffer_, i + 1) == 0xD8) break;
    if (i < end) ++i;
  }
  const std::size_t from = pos_;
  work_ += i - from;
  skipped_bytes_ += i - from;
  pos_ = i;
  if (i >= end) return false;
  start_frame(i);
  return true;
}

// Entropy-coded data ends at the first FF that is not stuffing (FF 00) or a restart marker
// (FF D0-D7); a marker from marker_limit() on would end the frame past the limit.
bool MjpegSplitter::scan_entropy() {
  const std::size_t end = std::min(buffer_.empty() ? 0 : buffer_.size() - 1, marker_limit());
  std::size_t i = pos_;
  bool found = false;
  while (i < end && !found) {
    i = find_ff(buffer_, i, end);
    if (i >= end) break;
    const unsigned char next = byte_at(buffer_, i + 1);
    found = next != 0x00 && !(next >= 0xD0 && next <= 0xD7);
    if (!found) ++i;
  }
  work_ += i - pos_;
  pos_ = i;
  if (found) {
    state_ = State::marker;
    return true;
  }
  if (i < marker_limit()) return false;
  lose_frame("frame larger than --max-frame-kib", i);
  return true;
}

// The marker at pos_: FF, fill FFs, then its code (T.81 B.1.1.2).
bool MjpegSplitter::take_marker() {
  std::size_t i = pos_;
  while (i < marker_limit() && i + 1 < buffer_.size() && byte_at(buffer_, i) == 0xFF &&
         byte_at(buffer_, i + 1) == 0xFF) {
    ++i;
  }
  work_ += i - pos_ + 1;
  pos_ = i;  // the fill bytes are not walked again
  if (i >= marker_limit()) {
    lose_frame("frame larger than --max-frame-kib", i);
    return true;
  }
  if (i + 1 >= buffer_.size()) return false;
  if (byte_at(buffer_, i) != 0xFF) {
    lose_frame("corrupt frame: no marker where one must be", i);
    return true;
  }
  const unsigned char code = byte_at(buffer_, i + 1);
  if (code == 0xD9) {  // EOI: a whole frame
    std::string frame = buffer_.substr(start_, i + 2 - start_);
    work_ += frame.size();
    pos_ = i + 2;
    state_ = State::seek_soi;
    ++frames_;
    on_frame_(std::move(frame));
    return true;
  }
  if (code == 0xD8) {  // SOI inside a frame: the one before was cut short
    drop("truncated frame: a new one started before its end");
    start_frame(i);
    return true;
  }
  if ((code >= 0xD0 && code <= 0xD7) || code == 0x01) {  // markers without a length
    pos_ = i + 2;
    return true;
  }
  return take_segment(i, code);
}

// A marker segment at `at`: its two length bytes count themselves and the parameters.
bool MjpegSplitter::take_segment(std::size_t at, unsigned char code) {
  if (at + 3 >= buffer_.size()) return false;
  work_ += 2;
  const std::size_t length =
      (std::size_t{byte_at(buffer_, at + 2)} << 8) | byte_at(buffer_, at + 3);
  if (length < 2) {
    lose_frame("corrupt frame: bad segment length", at + 2);
    return true;
  }
  const std::size_t end = at + 2 + length;
  if (end > start_ + max_frame_bytes_) {  // known now, without waiting for its bytes
    lose_frame("frame larger than --max-frame-kib", at);
    return true;
  }
  if (end > buffer_.size()) return false;
  pos_ = end;
  if (code == 0xDA) state_ = State::entropy;  // SOS: the scan's data follows its header
  return true;
}

void MjpegSplitter::start_frame(std::size_t at) {
  start_ = at;
  pos_ = at + 2;
  state_ = State::marker;
}

void MjpegSplitter::lose_frame(std::string_view reason, std::size_t resume_at) {
  drop(reason);
  pos_ = resume_at;
  state_ = State::seek_soi;
}

void MjpegSplitter::drop(std::string_view reason) {
  ++dropped_;
  if (on_drop_) on_drop_(reason);
}

// Once per feed: what is before the current frame (or before the search) is gone for good.
void MjpegSplitter::compact() {
  const std::size_t keep_from = state_ == State::seek_soi ? pos_ : start_;
  if (keep_from == 0) return;
  work_ += buffer_.size() - keep_from;
  buffer_.erase(0, keep_from);
  pos_ -= keep_from;
  start_ = 0;
}

}  // namespace pushcgi
