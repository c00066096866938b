// The listening socket of a FastCGI program started with --socket.
#pragma once

#include <string>
#include <string_view>

#include "pushcgi/error.hpp"
#include "unique_fd.hpp"

namespace pushcgi::detail {

struct SocketSpec {
  enum class Kind { unix_path, tcp } kind = Kind::unix_path;
  std::string path;  // unix
  std::string host;  // tcp: numeric or a name; "" is 127.0.0.1
  std::string port;
};

// "PATH" (anything with a '/', or without a ':'), "HOST:PORT", ":PORT" (loopback: a
// FastCGI port must never face the network by accident) or "[V6ADDR]:PORT".
Parsed<SocketSpec> parse_socket_spec(std::string_view text);

class Listener {
 public:
  // Binds and listens. A unix socket gets mode (e.g. 0660, so that the web server's group
  // can connect); a stale socket file left by a dead program is replaced, a live one is not.
  static Parsed<Listener> open(const SocketSpec& spec, unsigned mode);

  Listener() = default;
  ~Listener();
  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept = default;

  int fd() const { return fd_.get(); }
  std::string describe() const;

 private:
  UniqueFd fd_;
  std::string unlink_path_;  // the unix socket file we made
  std::string description_;
};

// True if fd is a listening socket (what spawn-fcgi and mod_fcgid pass as standard input).
bool is_listening_socket(int fd);

}  // namespace pushcgi::detail
