#include "pushcgi/sink.hpp"

#include <limits.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "io.hpp"

namespace pushcgi {

std::string_view to_string(WriteResult result) {
  switch (result) {
    case WriteResult::ok:
      return "ok";
    case WriteResult::refused:
      return "refused";
    case WriteResult::closed:
      return "closed by the peer";
    case WriteResult::failed:
      return "write failed";
  }
  return "unknown";
}

namespace detail {

std::size_t unsent_bytes(int fd, bool is_socket) {
  int bytes = 0;
  // SIOCOUTQ: what the peer has not read yet; on a pipe FIONREAD tells the same.
  if (ioctl(fd, is_socket ? SIOCOUTQ : FIONREAD, &bytes) != 0 || bytes < 0) return 0;
  return static_cast<std::size_t>(bytes);
}

WriteResult classify_errno(int error) {
  return (error == EPIPE || error == ECONNRESET) ? WriteResult::closed : WriteResult::failed;
}

WriteResult write_all(int fd, std::vector<iovec>& iov, bool is_socket) {
  std::size_t first = 0;
  while (first < iov.size()) {
    const auto count = static_cast<int>(std::min<std::size_t>(iov.size() - first, IOV_MAX));
    ssize_t n;
    if (is_socket) {
      msghdr message{};
      message.msg_iov = &iov[first];
      message.msg_iovlen = static_cast<std::size_t>(count);
      n = sendmsg(fd, &message, MSG_NOSIGNAL);
    } else {
      n = writev(fd, &iov[first], count);
    }
    if (n < 0) {
      if (errno == EINTR) continue;
      return classify_errno(errno);
    }
    auto left = static_cast<std::size_t>(n);
    while (first < iov.size() && left >= iov[first].iov_len) {
      left -= iov[first].iov_len;
      ++first;
    }
    if (left > 0) {
      iov[first].iov_base = static_cast<char*>(iov[first].iov_base) + left;
      iov[first].iov_len -= left;
    }
  }
  return WriteResult::ok;
}

}  // namespace detail

WriteResult StringSink::write(const std::string_view* pieces, std::size_t count) {
  if (closed_) return WriteResult::closed;
  ++writes_;
  for (std::size_t i = 0; i < count; ++i) {
    const std::size_t room = fail_after_ - data_.size();
    if (pieces[i].size() > room) {
      data_.append(pieces[i].substr(0, room));
      closed_ = true;
      return WriteResult::closed;
    }
    data_.append(pieces[i]);
  }
  return WriteResult::ok;
}

FdSink::FdSink(int fd) : fd_(fd) {
  struct stat info {};
  is_socket_ = fstat(fd, &info) == 0 && S_ISSOCK(info.st_mode);
}

WriteResult FdSink::write(const std::string_view* pieces, std::size_t count) {
  if (state_ != WriteResult::ok) return state_;
  std::vector<iovec> iov;
  iov.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    if (pieces[i].empty()) continue;
    iov.push_back(iovec{const_cast<char*>(pieces[i].data()), pieces[i].size()});
  }
  state_ = detail::write_all(fd_, iov, is_socket_);
  return state_;
}

}  // namespace pushcgi
