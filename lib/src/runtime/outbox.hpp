// A stream's bytes on their way to a non-blocking descriptor: queued as units (a value's
// pieces), framed for the transport, and written as far as the descriptor takes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace pushcgi::detail {

enum class Transport {
  fastcgi,  // a FastCGI connection: the body in FCGI_STDOUT records, ended by FCGI_END_REQUEST
  socket,   // plain bytes to a socket (CGI standard output)
  pipe,     // plain bytes to a pipe (CGI standard output)
};

class Outbox {
 public:
  enum class Flush { done, blocked, closed, failed };

  Outbox(Transport transport, std::uint16_t request_id)
      : transport_(transport), request_id_(request_id) {}

  // Queues pieces as one unit of the response body (FastCGI: framed in FCGI_STDOUT records
  // of at most 65535 bytes). Pieces of up to copy_bytes, and pieces inside scratch (memory
  // the caller reuses), are copied; larger ones are written from their own memory, which
  // keep holds until they are out.
  void queue(const std::string_view* pieces, std::size_t count, std::shared_ptr<const void> keep,
             std::size_t copy_bytes, std::string_view scratch = {});
  // The end of the response: FastCGI's empty FCGI_STDOUT record and FCGI_END_REQUEST
  // (FastCGI 1.0 sections 5.3 and 5.5); nothing on the other transports.
  void queue_end();

  // Writes what is queued until it is all out (done), the descriptor takes no more
  // (blocked: wait until it is writable), or the peer is gone (closed) or the write fails.
  Flush flush(int fd);
  bool empty() const { return first_ == segments_.size(); }
  // Bytes written so far, in all: whether a blocked write has made progress.
  std::uint64_t written() const { return written_; }

 private:
  struct Segment {
    const char* data;    // nullptr: own_ from offset
    std::size_t offset;  // into own_, or how much of data is written already
    std::size_t size;
  };

  void add(std::string_view bytes, bool copy);
  void add_record_header(unsigned char type, std::size_t length);
  void clear();

  Transport transport_;
  std::uint16_t request_id_;
  std::vector<Segment> segments_;
  std::size_t first_ = 0;       // the first segment not completely written
  std::size_t first_done_ = 0;  // bytes of segments_[first_] already written
  std::string own_;             // copied bytes and record headers
  std::vector<std::shared_ptr<const void>> keep_;
  std::uint64_t written_ = 0;
};

}  // namespace pushcgi::detail
