#include "pushcgi/fcgi_sink.hpp"

#include <fcgiapp.h>
#include <poll.h>

#include <cerrno>

#include "runtime/io.hpp"
#include "runtime/outbox.hpp"

namespace pushcgi {

FcgiSink::FcgiSink(FCGX_Request& request) : request_(request) {}

WriteResult FcgiSink::write(const std::string_view* pieces, std::size_t count) {
  if (state_ != WriteResult::ok) return state_;
  std::size_t total = 0;
  for (std::size_t i = 0; i < count; ++i) total += pieces[i].size();
  state_ = total >= kDirectBytes ? write_records(pieces, count) : write_buffered(pieces, count);
  return state_;
}

WriteResult FcgiSink::write_buffered(const std::string_view* pieces, std::size_t count) {
  for (std::size_t i = 0; i < count; ++i) {
    if (pieces[i].empty()) continue;
    FCGX_PutStr(pieces[i].data(), static_cast<int>(pieces[i].size()), request_.out);
  }
  FCGX_FFlush(request_.out);
  const int error = FCGX_GetError(request_.out);
  if (error == 0) return WriteResult::ok;
  return error > 0 ? detail::classify_errno(error) : WriteResult::failed;
}

namespace {

constexpr int kStallMilliseconds = 60000;

}  // namespace

// The records are framed as an event loop frames them (runtime/outbox), and written with
// blocking waits: a worker may wait for its viewer.
WriteResult FcgiSink::write_records(const std::string_view* pieces, std::size_t count) {
  // Whatever fcgi2 still buffers goes first, to keep the order.
  FCGX_FFlush(request_.out);
  if (const int error = FCGX_GetError(request_.out); error != 0) {
    return error > 0 ? detail::classify_errno(error) : WriteResult::failed;
  }
  detail::Outbox out(detail::Transport::fastcgi, static_cast<std::uint16_t>(request_.requestId));
  out.queue(pieces, count, nullptr, 0);  // written from the caller's memory, not copied
  for (;;) {
    switch (out.flush(request_.ipcFd)) {
      case detail::Outbox::Flush::done:
        return WriteResult::ok;
      case detail::Outbox::Flush::blocked: {
        // Not forever: a viewer that takes nothing for a minute would hold this worker.
        pollfd fd{request_.ipcFd, POLLOUT | POLLRDHUP, 0};
        const int ready = poll(&fd, 1, kStallMilliseconds);
        if (ready == 0) return WriteResult::failed;
        if (ready < 0 && errno != EINTR) return WriteResult::failed;
        if (ready > 0 && (fd.revents & (POLLRDHUP | POLLHUP | POLLERR))) return WriteResult::closed;
        break;
      }
      case detail::Outbox::Flush::closed:
        return WriteResult::closed;
      case detail::Outbox::Flush::failed:
        return WriteResult::failed;
    }
  }
}

}  // namespace pushcgi
