// An HTTP/1.0 client for end-to-end tests: one request, the raw response read as it arrives
// (no chunked encoding at 1.0; the server closes at the end), with arrival times.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace pushcgi::test {

class HttpClient {
 public:
  struct Arrival {
    std::size_t end;
    std::chrono::steady_clock::time_point steady;
    std::chrono::system_clock::time_point wall;
  };

  HttpClient() = default;
  ~HttpClient();
  HttpClient(HttpClient&& other) noexcept;
  HttpClient& operator=(HttpClient&&) = delete;
  HttpClient(const HttpClient&) = delete;

  // The source address of the connections get() makes: any 127.0.0.0/8 address is this
  // machine ("127.0.0.2" stands in for a client on another host); default 127.0.0.1.
  void connect_from(std::string address) { from_ = std::move(address); }
  // Connects to 127.0.0.1:port and sends GET target; headers: more header lines, each
  // ended by CRLF ("Authorization: Basic ...\r\n").
  bool get(int port, const std::string& target, const std::string& user_agent = "curl/7.88.1",
           const std::string& headers = "");
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout);
  bool read_to_end(std::chrono::milliseconds timeout);
  void close();

  const std::string& response() const { return response_; }
  // The body (after the head); empty before the head is complete.
  std::string body() const;
  int status() const;
  const Arrival* arrival_of(std::size_t offset) const;
  bool eof() const { return eof_; }

 private:
  bool read_some(std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string from_;
  std::string response_;
  std::vector<Arrival> arrivals_;
  bool eof_ = false;
};

// A whole response of a short request (or what came within timeout).
std::string http_get(int port, const std::string& target,
                     std::chrono::milliseconds timeout = std::chrono::seconds(10),
                     const std::string& headers = "");

// A connected TCP socket to 127.0.0.1:port, or -1; with receive_buffer, SO_RCVBUF is set
// to it before the connection is made (the window it offers); with from, the socket is
// bound to that source address first.
int connect_loopback(int port, int receive_buffer = 0, const std::string& from = "");

// A viewer that never reads: a socket with a 4 KB receive buffer that has sent
// GET target HTTP/1.0 and reads nothing. -1 on failure; the caller closes it.
int request_without_reading(int port, const std::string& target);

// A port on 127.0.0.1 that was free a moment ago.
int free_port();
// Waits until 127.0.0.1:port accepts connections.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

}  // namespace pushcgi::test
