// A FastCGI (or CGI) program: options, the choice of mode, a pool of worker threads, and a
// clean stop.
//
// Modes, decided by run():
//  * --socket PATH|HOST:PORT: listen there and serve FastCGI;
//  * standard input is a listening socket (spawn-fcgi, mod_fcgid, systemd): serve FastCGI
//    on it;
//  * otherwise serve one request as CGI on standard input and output; a program whose name
//    starts with "nph-" writes the whole HTTP head itself (non-parsed headers).
//
// Worker threads (--threads) accept and parse requests with fcgi2 and run the handlers. A
// stream that a handler pumps (Response::pump) is then handed to an event loop (--loops,
// one per core at most), which writes it for as long as the viewer stays: a stream costs
// a descriptor and a few KB, not a thread. --max-streams bounds the streams (by default
// from the open-file limit); a blocking stream (a handler that loops) holds its worker, and
// such streams may hold only some of the workers, so that pages and /state always find one.
//
// SIGTERM, SIGINT, SIGHUP and SIGUSR1 stop the program: every wait returns Wake::shutdown,
// streams write their close delimiter, the threads are joined, and run() returns 0.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "pushcgi/metrics_text.hpp"
#include "pushcgi/options.hpp"
#include "pushcgi/router.hpp"
#include "pushcgi/stream_slots.hpp"

namespace pushcgi {

namespace detail {
class FcgiServer;
}

class Server {
 public:
  static constexpr unsigned kDefaultThreads = 16;
  static constexpr unsigned kMaxLoops = 4;

  // program names the program in --help and in log lines.
  Server(std::string program, std::string summary);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Program options are added here before run(); --socket, --socket-mode, --threads,
  // --log-level, --help and --version are there already.
  Options& options() { return options_; }

  void route(std::string path, Handler handler) {
    router_.add(std::move(path), std::move(handler));
  }
  // See Router::set_fallback.
  void route_fallback(Handler handler) { router_.set_fallback(std::move(handler)); }

  // /metrics, in Prometheus's text format (metrics_text.hpp), is every program's: the
  // runtime's figures (streams by route, the stream limit, the process's CPU, memory and
  // descriptors), then what each writer added here writes, in the order added. A program
  // that routes /metrics itself answers it instead.
  using MetricsWriter = std::function<void(MetricsText&)>;
  void add_metrics(MetricsWriter writer) { metrics_writers_.push_back(std::move(writer)); }

  // The program's main: parses the options (a bad one: one line on stderr, returns 2;
  // --help, --version ("NAME VERSION", the toolkit's version): returns 0), then serves until
  // stopped. Returns the exit status.
  int run(int argc, const char* const* argv);
  int run(int argc, char** argv) { return run(argc, const_cast<const char* const*>(argv)); }

  // run() in two steps, for programs that wire things up from their option values:
  // parse_options() returns the exit status to leave with (--help, --version, a bad option), or
  // nothing to go on with serve().
  std::optional<int> parse_options(int argc, const char* const* argv);
  std::optional<int> parse_options(int argc, char** argv) {
    return parse_options(argc, const_cast<const char* const*>(argv));
  }
  int serve();

  // Stops the program as SIGTERM does; callable from any thread.
  static void stop();

  // Responses that are streaming right now, pumped or blocking.
  unsigned open_streams() const;
  unsigned threads() const { return threads_; }
  unsigned loops() const;

 private:
  int serve_fastcgi(int listen_fd, bool own_socket);
  void metrics(Response& response) const;
  static void fill_standard_descriptors();

  std::string program_;
  std::string argv0_;
  Options options_;
  Router router_;
  std::vector<MetricsWriter> metrics_writers_;
  std::string socket_;
  unsigned socket_mode_ = 0660;
  unsigned threads_ = kDefaultThreads;
  unsigned loop_count_ = 0;                      // 0: one per core, at most kMaxLoops
  unsigned max_streams_ = 0;                     // 0: from the open-file limit
  unsigned max_stream_seconds_ = 0;              // 0: none
  std::unique_ptr<detail::FcgiServer> fastcgi_;  // once serving FastCGI
};

}  // namespace pushcgi
