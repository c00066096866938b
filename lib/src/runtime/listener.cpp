#include "listener.hpp"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "pushcgi/query.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi::detail {

namespace {

std::string errno_text(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

Parsed<Listener> fail(std::string reason) {
  return Parsed<Listener>::failure(std::move(reason));
}

// A socket file nobody listens on any more can be replaced; anything else stays.
bool remove_stale_socket(const std::string& path, std::string& error) {
  struct stat info {};
  if (lstat(path.c_str(), &info) != 0) return true;  // nothing there
  if (!S_ISSOCK(info.st_mode)) {
    error = path + " exists and is not a socket";
    return false;
  }
  UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  if (connect(probe.get(), reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
    error = path + " is in use by another program";
    return false;
  }
  unlink(path.c_str());
  return true;
}

}  // namespace

Parsed<SocketSpec> parse_socket_spec(std::string_view text) {
  SocketSpec spec;
  const std::size_t colon = text.rfind(':');
  if (text.empty()) return Parsed<SocketSpec>::failure("expected PATH or HOST:PORT, got ''");
  if (text.find('/') != std::string_view::npos || colon == std::string_view::npos) {
    spec.path = std::string(text);
    if (spec.path.size() >= sizeof(sockaddr_un{}.sun_path)) {
      return Parsed<SocketSpec>::failure("socket path longer than " +
                                         std::to_string(sizeof(sockaddr_un{}.sun_path) - 1) +
                                         " bytes");
    }
    return spec;
  }
  spec.kind = SocketSpec::Kind::tcp;
  std::string_view host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  spec.host = std::string(host);
  spec.port = std::string(text.substr(colon + 1));
  if (!parse_number(spec.port, 1, 65535)) {
    return Parsed<SocketSpec>::failure("expected a port from 1 to 65535, got " +
                                       quote_input(spec.port));
  }
  return spec;
}

Parsed<Listener> Listener::open(const SocketSpec& spec, unsigned mode) {
  Listener listener;
  if (spec.kind == SocketSpec::Kind::unix_path) {
    std::string error;
    if (!remove_stale_socket(spec.path, error)) return fail(error);
    listener.fd_.reset(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!listener.fd_) return fail(errno_text("socket"));
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, spec.path.c_str(), spec.path.size() + 1);
    // The umask decides the mode bind() gives the file; set it so that there is no moment
    // with wider permissions, then chmod for the exact mode.
    const mode_t old_mask = umask(static_cast<mode_t>(~mode & 0777));
    const int bound =
        bind(listener.fd_.get(), reinterpret_cast<sockaddr*>(&address), sizeof address);
    umask(old_mask);
    if (bound != 0) return fail(errno_text("bind " + spec.path));
    listener.unlink_path_ = spec.path;
    if (chmod(spec.path.c_str(), static_cast<mode_t>(mode)) != 0) {
      return fail(errno_text("chmod " + spec.path));
    }
    listener.description_ = spec.path;
  } else {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string host = spec.host.empty() ? "127.0.0.1" : spec.host;
    if (const int rc = getaddrinfo(host.c_str(), spec.port.c_str(), &hints, &found); rc != 0) {
      return fail("cannot resolve " + host + ": " + gai_strerror(rc));
    }
    listener.fd_.reset(socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    const int one = 1;
    const bool ok =
        listener.fd_ &&
        setsockopt(listener.fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0 &&
        bind(listener.fd_.get(), found->ai_addr, found->ai_addrlen) == 0;
    const int saved = errno;
    freeaddrinfo(found);
    errno = saved;
    if (!ok) return fail(errno_text("bind " + host + ":" + spec.port));
    listener.description_ = host + ":" + spec.port;
  }
  if (listen(listener.fd_.get(), SOMAXCONN) != 0) return fail(errno_text("listen"));
  return listener;
}

Listener::~Listener() {
  if (!unlink_path_.empty() && fd_) unlink(unlink_path_.c_str());
}

std::string Listener::describe() const {
  return description_;
}

bool is_listening_socket(int fd) {
  int listening = 0;
  socklen_t size = sizeof listening;
  return getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &size) == 0 && listening != 0;
}

}  // namespace pushcgi::detail
