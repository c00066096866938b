// The narrow output interface every response goes through. A failed write is an ordinary
// value: a viewer leaving is normal, not an exceptional event.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>

namespace pushcgi {

enum class WriteResult {
  ok,       // written and pushed out to the peer
  refused,  // nothing written: the bytes would have been invalid (the stream stays usable)
  closed,   // the peer is gone (EPIPE, ECONNRESET); nothing more can be sent
  failed,   // any other I/O error; nothing more can be sent
};

std::string_view to_string(WriteResult result);

class Sink {
 public:
  virtual ~Sink() = default;

  // Writes the pieces in order, as one unit, and pushes them out to the peer before it
  // returns (no bytes wait in a buffer for a later write). Pieces are written from the
  // caller's memory, not copied per call where the transport allows. After closed or failed
  // the sink stays so: later writes send nothing and return the same result.
  virtual WriteResult write(const std::string_view* pieces, std::size_t count) = 0;

  WriteResult write(std::initializer_list<std::string_view> pieces) {
    return write(pieces.begin(), pieces.size());
  }
};

// Collects everything in a string, for tests. fail_after makes it act as a viewer that
// leaves once that many bytes were written (the write that crosses it returns closed).
class StringSink : public Sink {
 public:
  explicit StringSink(std::size_t fail_after = static_cast<std::size_t>(-1))
      : fail_after_(fail_after) {}

  using Sink::write;
  WriteResult write(const std::string_view* pieces, std::size_t count) override;

  const std::string& data() const { return data_; }
  std::size_t writes() const { return writes_; }

 private:
  std::string data_;
  std::size_t fail_after_;
  std::size_t writes_ = 0;
  bool closed_ = false;
};

// Writes to a file descriptor with gather I/O (CGI and nph- CGI: standard output). A socket
// is written with MSG_NOSIGNAL, so a departed peer is EPIPE, never a SIGPIPE. Does not own
// the descriptor.
class FdSink : public Sink {
 public:
  explicit FdSink(int fd);

  using Sink::write;
  WriteResult write(const std::string_view* pieces, std::size_t count) override;

 private:
  int fd_;
  bool is_socket_;
  WriteResult state_ = WriteResult::ok;
};

}  // namespace pushcgi
