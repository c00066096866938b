// A FastCGI client for tests: speaks the protocol as a web server does (one request per
// connection, FCGI_KEEP_CONN off) and records when each FCGI_STDOUT byte arrived.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pushcgi::test {

using Params = std::vector<std::pair<std::string, std::string>>;

// Params of a plain GET as nginx sends them.
Params get_params(std::string_view path_info, std::string_view query = "",
                  std::string_view user_agent = "curl/7.88.1");

class FcgiClient {
 public:
  struct Arrival {
    std::size_t end;  // stdout size after this record
    std::chrono::steady_clock::time_point steady;
    std::chrono::system_clock::time_point wall;
  };

  FcgiClient() = default;
  ~FcgiClient();
  FcgiClient(FcgiClient&& other) noexcept;
  FcgiClient& operator=(FcgiClient&&) = delete;
  FcgiClient(const FcgiClient&) = delete;

  // Connects to a unix socket path, retrying until timeout (the program may be starting).
  bool connect_unix(const std::string& path,
                    std::chrono::milliseconds timeout = std::chrono::seconds(5));
  bool connect_fd(int fd);

  // BEGIN_REQUEST (responder), PARAMS, the body as STDIN, and the empty STDIN that ends it.
  bool send_request(const Params& params, std::string_view body = "", int request_id = 1);
  // BEGIN_REQUEST and PARAMS alone: the body is still to come, as from a web server relaying
  // a client that trickles it.
  bool send_head(const Params& params, int request_id = 1);
  // One FCGI_STDIN record of bytes (not the empty one that ends the body).
  bool send_stdin(std::string_view bytes, int request_id = 1);

  // Reads records until done(stdout) holds, the request ends, or timeout. True if done held.
  bool read_until(const std::function<bool(const std::string&)>& done,
                  std::chrono::milliseconds timeout);
  // Reads until FCGI_END_REQUEST or the connection closes.
  bool read_to_end(std::chrono::milliseconds timeout);

  void close();

  const std::string& out() const { return out_; }
  const std::string& err() const { return err_; }
  bool ended() const { return ended_; }  // FCGI_END_REQUEST seen
  bool eof() const { return eof_; }      // the program closed the connection
  int app_status() const { return app_status_; }
  const std::vector<Arrival>& arrivals() const { return arrivals_; }
  // When the byte at offset (of stdout) arrived.
  const Arrival* arrival_of(std::size_t offset) const;
  int fd() const { return fd_; }

 private:
  bool write_all(const std::string& bytes);
  bool read_record(std::chrono::steady_clock::time_point deadline);
  bool read_exact(char* buffer, std::size_t size, std::chrono::steady_clock::time_point deadline);

  int fd_ = -1;
  std::string out_;
  std::string err_;
  std::vector<Arrival> arrivals_;
  bool ended_ = false;
  bool eof_ = false;
  int app_status_ = -1;
};

}  // namespace pushcgi::test
