#include "pushcgi/jpeg.hpp"

#include <turbojpeg.h>

#include <memory>

namespace pushcgi {

namespace {

unsigned char byte_at(std::string_view data, std::size_t i) {
  return static_cast<unsigned char>(data[i]);
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
    : max_frame_bytes_(max_frame_bytes),
      on_frame_(std::move(on_frame)),
      on_drop_(std::move(on_drop)) {}

void MjpegSplitter::drop(std::string_view reason) {
  ++dropped_;
  if (on_drop_) on_drop_(reason);
}

// Looks for FF D8 from pos_; keeps a trailing FF that may start one.
void MjpegSplitter::seek_soi() {
  for (std::size_t i = pos_; i + 1 < buffer_.size(); ++i) {
    if (byte_at(buffer_, i) == 0xFF && byte_at(buffer_, i + 1) == 0xD8) {
      skipped_bytes_ += i;
      buffer_.erase(0, i);
      pos_ = 2;
      state_ = State::marker;
      return;
    }
  }
  const std::size_t keep = !buffer_.empty() && byte_at(buffer_, buffer_.size() - 1) == 0xFF ? 1 : 0;
  skipped_bytes_ += buffer_.size() - keep;
  buffer_.erase(0, buffer_.size() - keep);
  pos_ = 0;
}

void MjpegSplitter::feed(std::string_view bytes) {
  buffer_.append(bytes);
  for (;;) {
    if (state_ == State::seek_soi) {
      seek_soi();
      if (state_ == State::seek_soi) return;
    }
    if (buffer_.size() > max_frame_bytes_) {
      drop("frame larger than --max-frame-bytes");
      buffer_.erase(0, 2);  // resynchronise on the next SOI
      pos_ = 0;
      state_ = State::seek_soi;
      continue;
    }
    if (state_ == State::entropy) {
      // Entropy-coded data ends at the first FF that is not stuffing (FF 00) or a restart
      // marker (FF D0-D7).
      std::size_t i = pos_;
      for (; i + 1 < buffer_.size(); ++i) {
        if (byte_at(buffer_, i) != 0xFF) continue;
        const unsigned char next = byte_at(buffer_, i + 1);
        if (next != 0x00 && !(next >= 0xD0 && next <= 0xD7)) break;
      }
      pos_ = i;
      if (i + 1 >= buffer_.size()) return;  // need more
      state_ = State::marker;
    }
    // A marker at pos_: FF (fill FFs) then its code.
    std::size_t i = pos_;
    while (i < buffer_.size() && byte_at(buffer_, i) == 0xFF && i + 1 < buffer_.size() &&
           byte_at(buffer_, i + 1) == 0xFF) {
      ++i;
    }
    if (i + 1 >= buffer_.size()) return;
    if (byte_at(buffer_, i) != 0xFF) {
      drop("corrupt frame: no marker where one must be");
      buffer_.erase(0, 2);
      pos_ = 0;
      state_ = State::seek_soi;
      continue;
    }
    const unsigned char code = byte_at(buffer_, i + 1);
    if (code == 0xD9) {  // EOI: a whole frame
      std::string frame = buffer_.substr(0, i + 2);
      buffer_.erase(0, i + 2);
      pos_ = 0;
      state_ = State::seek_soi;
      ++frames_;
      on_frame_(std::move(frame));
      continue;
    }
    if (code == 0xD8) {  // SOI inside a frame: the one before was cut short
      drop("truncated frame: a new one started before its end");
      buffer_.erase(0, i);
      pos_ = 2;
      continue;
    }
    if ((code >= 0xD0 && code <= 0xD7) || code == 0x01) {  // markers without a length
      pos_ = i + 2;
      continue;
    }
    if (i + 3 >= buffer_.size()) return;
    const std::size_t length =
        (std::size_t{byte_at(buffer_, i + 2)} << 8) | byte_at(buffer_, i + 3);
    if (length < 2) {
      drop("corrupt frame: bad segment length");
      buffer_.erase(0, 2);
      pos_ = 0;
      state_ = State::seek_soi;
      continue;
    }
    if (i + 2 + length > buffer_.size()) {  // need more (the size check drops a huge one)
      pos_ = i;
      return;
    }
    pos_ = i + 2 + length;
    if (code == 0xDA) state_ = State::entropy;  // SOS: the scan's data follows its header
  }
}

void MjpegSplitter::finish() {
  if (state_ != State::seek_soi) drop("truncated frame: the stream ended inside it");
  buffer_.clear();
  pos_ = 0;
  state_ = State::seek_soi;
}

}  // namespace pushcgi
