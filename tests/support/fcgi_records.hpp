// FastCGI records for unit tests that read what the runtime writes to a descriptor: the
// expected bytes built by hand (FastCGI 1.0 sections 3.3, 5.3, 5.5) and a parser of what
// arrived, so that every header field can be checked.
#pragma once

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace pushcgi::test {

constexpr unsigned char kFcgiStdout = 6;
constexpr unsigned char kFcgiEndRequest = 3;

struct Record {
  unsigned version = 0;
  unsigned type = 0;
  unsigned request_id = 0;
  unsigned padding = 0;
  std::string content;
};

// The 8-byte header of a record (FastCGI 1.0 section 3.3), without padding.
inline std::string record_header(unsigned char type, std::uint16_t request_id, std::size_t length) {
  const unsigned char header[8] = {1,
                                   type,
                                   static_cast<unsigned char>(request_id >> 8),
                                   static_cast<unsigned char>(request_id & 0xff),
                                   static_cast<unsigned char>(length >> 8),
                                   static_cast<unsigned char>(length & 0xff),
                                   0,
                                   0};
  return std::string(reinterpret_cast<const char*>(header), sizeof header);
}

inline std::string stdout_record(std::uint16_t request_id, std::string_view content) {
  return record_header(kFcgiStdout, request_id, content.size()) + std::string(content);
}

// The empty FCGI_STDOUT record, then FCGI_END_REQUEST with appStatus 0 and
// FCGI_REQUEST_COMPLETE (sections 5.3 and 5.5).
inline std::string end_of_request(std::uint16_t request_id) {
  return record_header(kFcgiStdout, request_id, 0) + record_header(kFcgiEndRequest, request_id, 8) +
         std::string(8, '\0');
}

// The complete records at the start of bytes; *rest: how many bytes follow them.
inline std::vector<Record> parse_records(std::string_view bytes, std::size_t* rest = nullptr) {
  std::vector<Record> records;
  std::size_t at = 0;
  while (bytes.size() - at >= 8) {
    const auto* h = reinterpret_cast<const unsigned char*>(bytes.data() + at);
    const std::size_t length = std::size_t{h[4]} << 8 | h[5];
    const std::size_t total = 8 + length + h[6];
    if (bytes.size() - at < total) break;
    records.push_back(Record{h[0], h[1], unsigned{h[2]} << 8 | h[3], h[6],
                             std::string(bytes.substr(at + 8, length))});
    at += total;
  }
  if (rest != nullptr) *rest = bytes.size() - at;
  return records;
}

// The content of the FCGI_STDOUT records, concatenated.
inline std::string stdout_of(const std::vector<Record>& records) {
  std::string out;
  for (const Record& record : records) {
    if (record.type == kFcgiStdout) out += record.content;
  }
  return out;
}

// Reads one end of a connection or pipe as a web server would.
class Peer {
 public:
  explicit Peer(int fd) : fd_(fd) {}

  // Reads until done() holds, the writer closes, or bound passes (a bound against hangs
  // only). True if done() held.
  bool read_until(const std::function<bool()>& done,
                  std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + bound;
    while (!done()) {
      if (eof_) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return false;
      pollfd p{fd_, POLLIN, 0};
      const int n = ::poll(&p, 1, static_cast<int>(left.count()));
      if (n < 0 && errno != EINTR) return false;
      if (n > 0) read_available();
    }
    return true;
  }
  bool read_to_eof(std::chrono::milliseconds bound = std::chrono::seconds(10)) {
    return read_until([this] { return eof_; }, bound);
  }
  // Reads what is there now, without waiting.
  void read_available() {
    char buffer[65536];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, MSG_DONTWAIT);
      if (n > 0) {
        raw_.append(buffer, static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) eof_ = true;
      if (n < 0 && errno == ENOTSOCK) {
        read_pipe();
      }
      return;
    }
  }

  const std::string& raw() const { return raw_; }
  std::vector<Record> records() const { return parse_records(raw_); }
  std::string stdout_bytes() const { return stdout_of(records()); }
  bool eof() const { return eof_; }

 private:
  // A pipe: recv() does not apply; read it without blocking.
  void read_pipe() {
    char buffer[65536];
    for (;;) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 0) <= 0) return;
      const ssize_t n = ::read(fd_, buffer, sizeof buffer);
      if (n <= 0) {
        if (n == 0) eof_ = true;
        return;
      }
      raw_.append(buffer, static_cast<std::size_t>(n));
    }
  }

  int fd_;
  std::string raw_;
  bool eof_ = false;
};

}  // namespace pushcgi::test
