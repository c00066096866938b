#include "runtime/outbox.hpp"

#include <fastcgi.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <functional>

namespace pushcgi::detail {

namespace {

// FastCGI 1.0 section 3.3: a record's content is at most 65535 bytes.
constexpr std::size_t kMaxRecordContent = 65535;
// iovecs per write: enough for several records of a large frame.
constexpr std::size_t kIovPerWrite = 64;

}  // namespace

void Outbox::add(std::string_view bytes, bool copy) {
  if (bytes.empty()) return;
  if (copy) {
    segments_.push_back(Segment{nullptr, own_.size(), bytes.size()});
    own_.append(bytes);
  } else {
    segments_.push_back(Segment{bytes.data(), 0, bytes.size()});
  }
}

void Outbox::add_record_header(unsigned char type, std::size_t length) {
  const unsigned char header[FCGI_HEADER_LEN] = {FCGI_VERSION_1,
                                                 type,
                                                 static_cast<unsigned char>(request_id_ >> 8),
                                                 static_cast<unsigned char>(request_id_ & 0xff),
                                                 static_cast<unsigned char>(length >> 8),
                                                 static_cast<unsigned char>(length & 0xff),
                                                 0,
                                                 0};
  add(std::string_view(reinterpret_cast<const char*>(header), sizeof header), true);
}

void Outbox::queue(const std::string_view* pieces, std::size_t count,
                   std::shared_ptr<const void> keep, std::size_t copy_bytes,
                   std::string_view scratch) {
  if (keep) keep_.push_back(std::move(keep));
  const auto copy = [&](std::string_view piece) {
    const auto in_scratch = std::less_equal<const char*>();
    return piece.size() <= copy_bytes ||
           (!scratch.empty() && in_scratch(scratch.data(), piece.data()) &&
            in_scratch(piece.data() + piece.size(), scratch.data() + scratch.size()));
  };
  if (transport_ != Transport::fastcgi) {
    for (std::size_t i = 0; i < count; ++i) add(pieces[i], copy(pieces[i]));
    return;
  }
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += pieces[i].size();
  std::size_t piece = 0;
  std::size_t offset = 0;  // into pieces[piece]
  while (total > 0) {
    const std::size_t length = std::min(total, kMaxRecordContent);
    add_record_header(FCGI_STDOUT, length);
    for (std::size_t need = length; need > 0;) {
      const std::string_view rest = pieces[piece].substr(offset);
      const std::size_t take = std::min(need, rest.size());
      add(rest.substr(0, take), copy(pieces[piece]));
      need -= take;
      offset += take;
      if (offset == pieces[piece].size()) {
        ++piece;
        offset = 0;
      }
    }
    total -= length;
  }
}

void Outbox::queue_end() {
  if (transport_ != Transport::fastcgi) return;
  add_record_header(FCGI_STDOUT, 0);
  add_record_header(FCGI_END_REQUEST, sizeof(FCGI_EndRequestBody));
  FCGI_EndRequestBody body{};  // appStatus 0
  body.protocolStatus = FCGI_REQUEST_COMPLETE;
  add(std::string_view(reinterpret_cast<const char*>(&body), sizeof body), true);
}

void Outbox::clear() {
  segments_.clear();
  first_ = 0;
  first_done_ = 0;
  own_.clear();
  keep_.clear();
}

Outbox::Flush Outbox::flush(int fd) {
  while (!empty()) {
    iovec iov[kIovPerWrite];
    std::size_t n = 0;
    for (std::size_t i = first_; i < segments_.size() && n < kIovPerWrite; ++i, ++n) {
      const Segment& segment = segments_[i];
      const char* data = segment.data != nullptr ? segment.data : own_.data() + segment.offset;
      const std::size_t skip = i == first_ ? first_done_ : 0;
      iov[n] = iovec{const_cast<char*>(data) + skip, segment.size - skip};
    }
    ssize_t written;
    if (transport_ == Transport::pipe) {
      written = ::writev(fd, iov, static_cast<int>(n));
    } else {
      msghdr message{};
      message.msg_iov = iov;
      message.msg_iovlen = n;
      written = ::sendmsg(fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    if (written < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return Flush::blocked;
      return (errno == EPIPE || errno == ECONNRESET) ? Flush::closed : Flush::failed;
    }
    written_ += static_cast<std::uint64_t>(written);
    auto left = static_cast<std::size_t>(written);
    while (left > 0) {
      const std::size_t rest = segments_[first_].size - first_done_;
      if (left < rest) {
        first_done_ += left;
        break;
      }
      left -= rest;
      ++first_;
      first_done_ = 0;
    }
  }
  clear();
  return Flush::done;
}

}  // namespace pushcgi::detail
