#include "runtime/cgi_request.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <utility>

#include "pushcgi/log.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/stop_signal.hpp"

namespace pushcgi::detail {

namespace {

HeadStyle head_style_for(const char* argv0) {
  const char* base = std::strrchr(argv0, '/');
  base = base != nullptr ? base + 1 : argv0;
  return std::strncmp(base, "nph-", 4) == 0 ? HeadStyle::nph : HeadStyle::cgi;
}

Transport transport_of(int fd) {
  struct stat out {};
  return fstat(fd, &out) == 0 && S_ISSOCK(out.st_mode) ? Transport::socket : Transport::pipe;
}

// The same pump as behind FastCGI, over standard output, in this thread.
void pump_on_stdout(Router::Pumped pumped) {
  Handoff handoff;
  handoff.fd = STDOUT_FILENO;
  handoff.transport = transport_of(STDOUT_FILENO);
  handoff.pump = std::move(pumped.stream.pump);
  handoff.tally = std::move(pumped.stream.tally);
  handoff.name = std::move(pumped.name);
  handoff.started = pumped.stream.started;
  handoff.bytes_sent = pumped.stream.bytes_sent;
  handoff.max_duration = pumped.stream.max_duration;
  EventLoop loop(stop_fd());
  loop.adopt(std::move(handoff));
  loop.run_until_empty();
}

}  // namespace

int serve_cgi_request(const Router& router, const char* argv0,
                      std::chrono::seconds max_stream_duration) {
  Router::Context context;
  context.style = head_style_for(argv0);
  context.max_stream_duration = max_stream_duration;
  Params params = Request::params_from_environment(environ);
  if (getenv("REQUEST_METHOD") == nullptr) {
    log(LogLevel::info,
        "no --socket and no web server: serving one CGI request for GET / on "
        "standard output");
  }
  FdSink sink(STDOUT_FILENO);
  PollWaiter waiter = PollWaiter::for_output(STDOUT_FILENO, stop_fd());
  // A CGI's body comes on standard input only as CONTENT_LENGTH says (RFC 3875 section 4.2),
  // which the router refuses unread.
  std::optional<Router::Pumped> pumped = router.serve(std::move(params), sink, waiter, context);
  if (pumped) pump_on_stdout(std::move(*pumped));
  return 0;
}

}  // namespace pushcgi::detail
