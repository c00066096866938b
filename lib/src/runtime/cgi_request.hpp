// A program started as a CGI (no --socket and no listening socket on standard input):
// one request, from the environment, answered on standard output.
#pragma once

#include <chrono>

#include "pushcgi/router.hpp"

namespace pushcgi::detail {

// Serves the one request; a stream that the handler pumps runs in an event loop in this
// thread until it ends. A program whose name (argv0's last part) starts with "nph-" writes
// the whole HTTP head itself. Returns the exit status.
int serve_cgi_request(const Router& router, const char* argv0,
                      std::chrono::seconds max_stream_duration);

}  // namespace pushcgi::detail
