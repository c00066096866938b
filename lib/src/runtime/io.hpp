// Internal I/O helpers shared by the sinks.
#pragma once

#include <sys/uio.h>

#include <vector>

#include "pushcgi/sink.hpp"

namespace pushcgi::detail {

// Writes every byte of the iovecs (partial writes and EINTR handled; iovecs are consumed).
// EPIPE and ECONNRESET are WriteResult::closed, any other error WriteResult::failed.
WriteResult write_all(int fd, std::vector<iovec>& iov, bool is_socket);

// Bytes written to fd that its reader has not taken yet.
std::size_t unsent_bytes(int fd, bool is_socket);

// ok, or the result that the errno of a failed write stands for.
WriteResult classify_errno(int error);

}  // namespace pushcgi::detail
