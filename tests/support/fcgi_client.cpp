#include "support/fcgi_client.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

namespace pushcgi::test {

namespace {

constexpr unsigned char kVersion = 1;
constexpr unsigned char kBeginRequest = 1;
constexpr unsigned char kEndRequest = 3;
constexpr unsigned char kParams = 4;
constexpr unsigned char kStdin = 5;
constexpr unsigned char kStdout = 6;
constexpr unsigned char kStderr = 7;
constexpr unsigned char kResponder = 1;

void put_length(std::string& out, std::size_t length) {
  if (length < 128) {
    out += static_cast<char>(length);
  } else {
    out += static_cast<char>(((length >> 24) & 0x7f) | 0x80);
    out += static_cast<char>((length >> 16) & 0xff);
    out += static_cast<char>((length >> 8) & 0xff);
    out += static_cast<char>(length & 0xff);
  }
}

std::string record(unsigned char type, int request_id, std::string_view content) {
  std::string out;
  out += static_cast<char>(kVersion);
  out += static_cast<char>(type);
  out += static_cast<char>((request_id >> 8) & 0xff);
  out += static_cast<char>(request_id & 0xff);
  out += static_cast<char>((content.size() >> 8) & 0xff);
  out += static_cast<char>(content.size() & 0xff);
  out += '\0';  // padding
  out += '\0';
  out.append(content);
  return out;
}

// A stream (PARAMS, STDIN) as records of at most 65535 bytes, ended by an empty one.
std::string stream_records(unsigned char type, int request_id, std::string_view content) {
  std::string out;
  while (!content.empty()) {
    const std::size_t take = std::min<std::size_t>(content.size(), 65535);
    out += record(type, request_id, content.substr(0, take));
    content.remove_prefix(take);
  }
  return out + record(type, request_id, "");
}

}  // namespace

Params get_params(std::string_view path_info, std::string_view query, std::string_view user_agent) {
  return {{"GATEWAY_INTERFACE", "CGI/1.1"},
          {"SERVER_PROTOCOL", "HTTP/1.1"},
          {"REQUEST_METHOD", "GET"},
          {"SCRIPT_NAME", "/app"},
          {"PATH_INFO", std::string(path_info)},
          {"QUERY_STRING", std::string(query)},
          {"REQUEST_URI", "/app" + std::string(path_info)},
          {"SERVER_NAME", "127.0.0.1"},
          {"SERVER_PORT", "8080"},
          {"REMOTE_ADDR", "127.0.0.1"},
          {"HTTP_HOST", "127.0.0.1:8080"},
          {"HTTP_USER_AGENT", std::string(user_agent)}};
}

FcgiClient::~FcgiClient() {
  close();
}

FcgiClient::FcgiClient(FcgiClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      out_(std::move(other.out_)),
      err_(std::move(other.err_)),
      arrivals_(std::move(other.arrivals_)),
      ended_(other.ended_),
      eof_(other.eof_),
      app_status_(other.app_status_) {}

bool FcgiClient::connect_unix(const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
  for (;;) {
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
      return connect_fd(fd);
    }
    ::close(fd);
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool FcgiClient::connect_fd(int fd) {
  close();
  fd_ = fd;
  return fd_ >= 0;
}

bool FcgiClient::send_request(const Params& params, std::string_view body, int request_id) {
  return send_head(params, request_id) && write_all(stream_records(kStdin, request_id, body));
}

bool FcgiClient::send_stdin(std::string_view bytes, int request_id) {
  return write_all(record(kStdin, request_id, bytes.substr(0, 65535)));
}

bool FcgiClient::send_head(const Params& params, int request_id) {
  std::string begin(8, '\0');
  begin[1] = static_cast<char>(kResponder);  // role; flags 0: no FCGI_KEEP_CONN
  std::string pairs;
  for (const auto& [name, value] : params) {
    put_length(pairs, name.size());
    put_length(pairs, value.size());
    pairs += name;
    pairs += value;
  }
  return write_all(record(kBeginRequest, request_id, begin) +
                   stream_records(kParams, request_id, pairs));
}

bool FcgiClient::write_all(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

bool FcgiClient::read_exact(char* buffer, std::size_t size,
                            std::chrono::steady_clock::time_point deadline) {
  std::size_t got = 0;
  while (got < size) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd fd{fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count()) + 1) <= 0) continue;
    const ssize_t n = ::read(fd_, buffer + got, size - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof_ = true;
      return false;
    }
    got += static_cast<std::size_t>(n);
  }
  return true;
}

bool FcgiClient::read_record(std::chrono::steady_clock::time_point deadline) {
  unsigned char header[8];
  if (!read_exact(reinterpret_cast<char*>(header), 8, deadline)) return false;
  const std::size_t length = (std::size_t{header[4]} << 8) | header[5];
  std::string content(length + header[6], '\0');
  if (!content.empty() && !read_exact(content.data(), content.size(), deadline)) return false;
  content.resize(length);
  switch (header[1]) {
    case kStdout:
      out_ += content;
      arrivals_.push_back(
          {out_.size(), std::chrono::steady_clock::now(), std::chrono::system_clock::now()});
      break;
    case kStderr:
      err_ += content;
      break;
    case kEndRequest:
      ended_ = true;
      if (content.size() >= 4) {
        app_status_ = (static_cast<unsigned char>(content[0]) << 24) |
                      (static_cast<unsigned char>(content[1]) << 16) |
                      (static_cast<unsigned char>(content[2]) << 8) |
                      static_cast<unsigned char>(content[3]);
      }
      break;
    default:
      break;
  }
  return true;
}

bool FcgiClient::read_until(const std::function<bool(const std::string&)>& done,
                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(out_)) {
    if (ended_ || eof_ || fd_ < 0) return false;
    if (!read_record(deadline)) return done(out_);
  }
  return true;
}

bool FcgiClient::read_to_end(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!ended_ && !eof_ && fd_ >= 0) {
    if (!read_record(deadline)) break;
  }
  return ended_ || eof_;
}

const FcgiClient::Arrival* FcgiClient::arrival_of(std::size_t offset) const {
  for (const Arrival& arrival : arrivals_) {
    if (offset < arrival.end) return &arrival;
  }
  return nullptr;
}

void FcgiClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

}  // namespace pushcgi::test
