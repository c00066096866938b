#include "pushcgi/server.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <string>
#include <thread>

#include "base/version.hpp"
#include "pushcgi/log.hpp"
#include "pushcgi/text.hpp"
#include "runtime/cgi_request.hpp"
#include "runtime/fcgi_server.hpp"
#include "runtime/listener.hpp"
#include "runtime/process_metrics.hpp"
#include "runtime/stop_signal.hpp"

namespace pushcgi {

Server::Server(std::string program, std::string summary)
    : program_(program), options_(std::move(program), std::move(summary)) {
  options_.add_value("socket", "PATH|HOST:PORT",
                     "serve FastCGI on this unix socket or TCP address (\":PORT\" is loopback)",
                     [this](std::string_view value) {
                       const auto spec = detail::parse_socket_spec(value);
                       if (!spec) return spec.error();
                       socket_ = std::string(value);
                       return std::string();
                     });
  options_.add_value("socket-mode", "MODE", "permissions of a unix socket, octal (default 660)",
                     [this](std::string_view value) {
                       if (value.empty() || value.size() > 4 ||
                           value.find_first_not_of("01234567") != std::string_view::npos ||
                           std::stoul(std::string(value), nullptr, 8) > 0777) {
                         return "expected an octal mode such as 660, got " + quote_input(value);
                       }
                       socket_mode_ =
                           static_cast<unsigned>(std::stoul(std::string(value), nullptr, 8));
                       return std::string();
                     });
  options_.add_number("threads", "N",
                      "worker threads: requests handled at once (default " +
                          std::to_string(kDefaultThreads) +
                          "); streams do not hold one once they are handed to an event loop",
                      threads_, 1, 10000);
  options_.add_number("loops", "N",
                      "event loops that write the streams (default: one per core, at most " +
                          std::to_string(kMaxLoops) + ")",
                      loop_count_, 1, 64);
  options_.add_number("max-streams", "N",
                      "most streams open at once; more get 503 with Retry-After (default: "
                      "from the open-file limit, which is raised to its hard limit)",
                      max_streams_, 1, 1000000);
  options_.add_number("max-stream-seconds", "N",
                      "end a stream cleanly after N seconds (default 0: never); a browser "
                      "keeps the last picture, an EventSource reconnects",
                      max_stream_seconds_, 0, 1000000);
  options_.add_value("log-level", "LEVEL", "debug, info (default), warning or error",
                     [](std::string_view value) {
                       const auto level = parse_log_level(value);
                       if (!level)
                         return "expected debug|info|warning|error, got " + quote_input(value);
                       set_log_level(*level);
                       return std::string();
                     });
}

Server::~Server() = default;

void Server::stop() {
  detail::request_stop();
}

unsigned Server::open_streams() const {
  return fastcgi_ ? fastcgi_->open_streams() : 0;
}

unsigned Server::loops() const {
  return fastcgi_ ? fastcgi_->loops() : 0;
}

int Server::run(int argc, const char* const* argv) {
  if (const auto status = parse_options(argc, argv)) return *status;
  return serve();
}

std::optional<int> Server::parse_options(int argc, const char* const* argv) {
  set_log_program(program_);
  argv0_ = argc > 0 ? argv[0] : program_;
  const Options::Result parsed = options_.parse(argc, argv);
  if (parsed.outcome == Options::Outcome::help) {
    std::fputs(options_.help_text().c_str(), stdout);
    return 0;
  }
  if (parsed.outcome == Options::Outcome::version) {
    // "NAME VERSION", the first line that help2man reads for the man pages.
    std::printf("%s %s\n", program_.c_str(), detail::version());
    return 0;
  }
  if (parsed.outcome == Options::Outcome::error) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program_.c_str(), parsed.message.c_str());
    return 2;
  }
  return std::nullopt;
}

int Server::serve() {
  fill_standard_descriptors();
  detail::install_stop_signal();
  router_.add("/metrics", [this](const Request&, Response& response) { metrics(response); });

  if (!socket_.empty()) {
    const auto spec = detail::parse_socket_spec(socket_);
    Parsed<detail::Listener> listener = detail::Listener::open(*spec, socket_mode_);
    if (!listener) {
      log(LogLevel::error, "cannot listen: " + listener.error());
      return 1;
    }
    log(LogLevel::info, "serving FastCGI on " + listener->describe() + " with " +
                            std::to_string(threads_) + " threads");
    return serve_fastcgi(listener->fd(), true);
  }
  if (detail::is_listening_socket(STDIN_FILENO)) {
    fcntl(STDIN_FILENO, F_SETFD, FD_CLOEXEC);  // for no program this one starts
    log(LogLevel::info,
        "serving FastCGI on the inherited socket with " + std::to_string(threads_) + " threads");
    return serve_fastcgi(STDIN_FILENO, false);
  }
  return detail::serve_cgi_request(router_, argv0_.c_str(),
                                   std::chrono::seconds(max_stream_seconds_));
}

// A program started with 0, 1 or 2 closed would hand that number to the next descriptor it
// opens (a listening socket, a viewer's connection), which would then take what is meant
// for standard error, and be inherited as it by a child: each closed one gets /dev/null.
void Server::fill_standard_descriptors() {
  for (int fd = STDIN_FILENO; fd <= STDERR_FILENO; ++fd) {
    if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF) continue;
    const int null = ::open("/dev/null", O_RDWR);  // the lowest free number: fd itself
    if (null >= 0 && null != fd) ::close(null);
  }
}

void Server::metrics(Response& response) const {
  MetricsText metrics;
  metrics.family("pushcgi_build_info", MetricType::gauge, "1, labelled with the version.")
      .sample(1, {{"version", detail::version()}});
  write_stream_metrics(metrics, router_.stream_routes());
  metrics.family("pushcgi_streams_max", MetricType::gauge,
                 "Streams allowed at once (--max-streams, or from the open-file limit); 0: "
                 "no limit (a CGI).");
  metrics.sample(fastcgi_ ? fastcgi_->max_streams() : 0u);
  metrics.family("pushcgi_worker_threads", MetricType::gauge,
                 "Worker threads that accept requests (--threads).");
  metrics.sample(threads_);
  detail::write_process_metrics(metrics);
  for (const MetricsWriter& writer : metrics_writers_) writer(metrics);
  ResponseHead head(200);
  head.add("Content-Type", MetricsText::kContentType);
  head.add("Cache-Control", "no-store");
  response.send(std::move(head), metrics.text());
}

int Server::serve_fastcgi(int listen_fd, bool own_socket) {
  detail::FcgiServer::Settings settings;
  settings.threads = threads_;
  settings.loops = loop_count_ > 0 ? loop_count_
                                   : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxLoops);
  settings.max_streams = max_streams_;
  settings.max_stream_duration = std::chrono::seconds(max_stream_seconds_);
  // Set before any worker starts, so that their /state handlers can ask it.
  fastcgi_ = std::make_unique<detail::FcgiServer>(router_, settings);
  return fastcgi_->run(listen_fd, own_socket);
}

}  // namespace pushcgi
