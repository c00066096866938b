#include "support/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <thread>
#include <utility>

namespace pushcgi::test {

int connect_loopback(int port, int receive_buffer, const std::string& from) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (receive_buffer > 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
  }
  if (!from.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (inet_pton(AF_INET, from.c_str(), &source.sin_addr) != 1 ||
        bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      ::close(fd);
      return -1;
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<std::uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

int request_without_reading(int port, const std::string& target) {
  const int fd = connect_loopback(port, 4096);
  if (fd < 0) return -1;
  const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::write(fd, request.data(), request.size()) != static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return -1;
  }
  return fd;
}

HttpClient::~HttpClient() {
  close();
}

HttpClient::HttpClient(HttpClient&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      response_(std::move(other.response_)),
      arrivals_(std::move(other.arrivals_)),
      eof_(other.eof_) {}

bool HttpClient::get(int port, const std::string& target, const std::string& user_agent,
                     const std::string& headers) {
  close();
  fd_ = connect_loopback(port, 0, from_);
  if (fd_ < 0) return false;
  const std::string request =
      "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1:" + std::to_string(port) +
      "\r\nUser-Agent: " + user_agent + "\r\nAccept: */*\r\n" + headers + "\r\n";
  return send(fd_, request.data(), request.size(), MSG_NOSIGNAL) ==
         static_cast<ssize_t>(request.size());
}

bool HttpClient::read_some(std::chrono::steady_clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
  if (left.count() <= 0 || fd_ < 0) return false;
  pollfd fd{fd_, POLLIN, 0};
  if (poll(&fd, 1, static_cast<int>(left.count()) + 1) <= 0) return true;
  char buffer[65536];
  const ssize_t n = ::read(fd_, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return true;
  if (n <= 0) {
    eof_ = true;
    return false;
  }
  response_.append(buffer, static_cast<std::size_t>(n));
  arrivals_.push_back(
      {response_.size(), std::chrono::steady_clock::now(), std::chrono::system_clock::now()});
  return true;
}

bool HttpClient::read_until(const std::function<bool(const std::string&)>& done,
                            std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done(response_)) {
    if (eof_ || std::chrono::steady_clock::now() >= deadline) return done(response_);
    if (!read_some(deadline) && (eof_ || std::chrono::steady_clock::now() >= deadline)) {
      return done(response_);
    }
  }
  return true;
}

bool HttpClient::read_to_end(std::chrono::milliseconds timeout) {
  read_until([](const std::string&) { return false; }, timeout);
  return eof_;
}

void HttpClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

std::string HttpClient::body() const {
  const std::size_t end = response_.find("\r\n\r\n");
  return end == std::string::npos ? std::string() : response_.substr(end + 4);
}

int HttpClient::status() const {
  const std::size_t space = response_.find(' ');
  return space == std::string::npos ? 0 : std::atoi(response_.c_str() + space + 1);
}

const HttpClient::Arrival* HttpClient::arrival_of(std::size_t offset) const {
  for (const Arrival& arrival : arrivals_) {
    if (offset < arrival.end) return &arrival;
  }
  return nullptr;
}

std::string http_get(int port, const std::string& target, std::chrono::milliseconds timeout,
                     const std::string& headers) {
  HttpClient client;
  if (!client.get(port, target, "curl/7.88.1", headers)) return {};
  client.read_to_end(timeout);
  return client.response();
}

int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
  socklen_t size = sizeof address;
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
  ::close(fd);
  return ntohs(address.sin_port);
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    const int fd = connect_loopback(port);
    if (fd >= 0) {
      ::close(fd);
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

}  // namespace pushcgi::test
