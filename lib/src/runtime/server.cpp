#include "pushcgi/server.hpp"

#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <system_error>
#include <thread>
#include <vector>

#include "file_limit.hpp"
#include "listener.hpp"
#include "pushcgi/fcgi_sink.hpp"
#include "pushcgi/log.hpp"
#include "pushcgi/text.hpp"
#include "runtime/event_loop.hpp"
#include "stop_signal.hpp"

namespace pushcgi {

namespace {

using Clock = std::chrono::steady_clock;

// Blocks until the stop descriptor is readable or timeout passes; true if stopping.
bool wait_for_stop(Clock::duration timeout) {
  pollfd fd{detail::stop_fd(), POLLIN, 0};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  const int ready = poll(&fd, 1, static_cast<int>(ms));
  return ready > 0 || detail::stop_requested();
}

// Reads FCGI_STDIN up to its end, which a request without a body has at once (the empty
// record), so that the connection can then be watched for the viewer leaving; false at the
// first byte of a body.
bool fcgi_body_is_empty(FCGX_Stream* in) {
  char byte;
  return FCGX_GetStr(&byte, 1, in) <= 0;
}

}  // namespace

// Handlers need little stack (request data lives on the heap), and thousands of threads
// with the default 8 MB each would take 16 GB of address space at 2,000 streams: more
// than a 32-bit Raspberry Pi has. Sanitizers need several times more.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t kThreadStackBytes = 2u << 20;
#else
constexpr std::size_t kThreadStackBytes = 256u << 10;
#endif

struct Server::Worker {
  pthread_t thread{};
  std::atomic<bool> accepting{false};
  std::atomic<bool> done{false};
  std::mutex mutex;    // guards active_fd
  int active_fd = -1;  // the connection being served, for a forced stop
};

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
  if (parsed.outcome == Options::Outcome::error) {
    std::fprintf(stderr, "%s: %s (see --help)\n", program_.c_str(), parsed.message.c_str());
    return 2;
  }
  return std::nullopt;
}

int Server::serve() {
  fill_standard_descriptors();
  detail::install_stop_signal();

  if (!socket_.empty()) {
    const auto spec = detail::parse_socket_spec(socket_);
    Parsed<detail::Listener> listener = detail::Listener::open(*spec, socket_mode_);
    if (!listener) {
      log(LogLevel::error, "cannot listen: " + listener.error());
      return 1;
    }
    log(LogLevel::info, "serving FastCGI on " + listener->describe() + " with " +
                            std::to_string(threads_) + " threads");
    return run_fastcgi(listener->fd(), true);
  }
  if (detail::is_listening_socket(STDIN_FILENO)) {
    fcntl(STDIN_FILENO, F_SETFD, FD_CLOEXEC);  // for no program this one starts
    log(LogLevel::info,
        "serving FastCGI on the inherited socket with " + std::to_string(threads_) + " threads");
    return run_fastcgi(STDIN_FILENO, false);
  }
  return run_cgi(argv0_.c_str());
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

// Each stream holds one descriptor (its connection); the rest of the open-file limit is
// kept for the workers' connections, sources, logs and the listening socket.
unsigned Server::stream_limit() const {
  const rlimit files = detail::raise_file_limit();
  constexpr rlim_t kSpare = 256;
  const rlim_t reserved = rlim_t{threads_} + kSpare;
  const rlim_t room = files.rlim_cur > reserved ? files.rlim_cur - reserved : 1;
  if (max_streams_ == 0) return static_cast<unsigned>(std::min<rlim_t>(room, 1000000));
  if (max_streams_ > room) {
    log(LogLevel::warning, "open file limit " + std::to_string(files.rlim_cur) +
                               " leaves room for " + std::to_string(room) + " of --max-streams " +
                               std::to_string(max_streams_) +
                               "; streams beyond it will fail to start");
  }
  return max_streams_;
}

Router::Context Server::context(HeadStyle style) {
  Router::Context context;
  context.style = style;
  context.slots = slots_.get();
  context.max_stream_duration = std::chrono::seconds(max_stream_seconds_);
  return context;
}

int Server::run_fastcgi(int listen_fd, bool own_socket) {
  // fcgi2 waits this long (default 2 s) in FCGX_Finish_r for the web server to close the
  // connection; a stop must not wait that long.
  setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "500", 0);
  if (FCGX_Init() != 0) {
    log(LogLevel::error, "FCGX_Init failed");
    return 1;
  }
  // Blocking streams (handlers that loop) may hold all workers but a quarter, at least one.
  slots_ = std::make_unique<StreamSlots>(stream_limit(), threads_ - std::max(1u, threads_ / 4));
  const unsigned loops =
      loop_count_ > 0 ? loop_count_
                      : std::clamp(std::thread::hardware_concurrency(), 1u, kMaxLoops);
  std::vector<std::unique_ptr<Worker>> workers;
  bool started = true;
  {
    // Workers start with the stop signals blocked, so that only this thread takes them.
    sigset_t old_mask;
    pthread_sigmask(SIG_SETMASK, nullptr, &old_mask);
    detail::block_stop_signals();
    try {
      for (unsigned i = 0; i < loops; ++i) {
        loops_.push_back(std::make_unique<detail::EventLoop>(detail::stop_fd()));
        loops_.back()->start();
      }
      for (unsigned i = 0; i < threads_; ++i) {
        auto worker = std::make_unique<Worker>();
        start_worker(*worker, listen_fd);
        workers.push_back(std::move(worker));
      }
    } catch (const std::system_error& error) {
      log(LogLevel::error, "cannot start " + std::to_string(threads_) + " threads (" +
                               error.what() + "); lower --threads or raise the limits");
      started = false;
      detail::request_stop();
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
  while (!wait_for_stop(std::chrono::hours(1))) {
  }
  log(LogLevel::info, "stopping: " + std::to_string(open_streams()) + " open streams");
  // The loops have seen the stop too and end their streams meanwhile.
  stop_workers(workers, listen_fd, own_socket);
  for (auto& loop : loops_) loop->join();
  loops_.clear();
  log(LogLevel::info, "stopped");
  return started ? 0 : 1;
}

void Server::stop_workers(std::vector<std::unique_ptr<Worker>>& workers, int listen_fd,
                          bool own_socket) {
  FCGX_ShutdownPending();
  if (own_socket) shutdown(listen_fd, SHUT_RDWR);  // every blocked accept() returns
  const auto cut_off_at = Clock::now() + std::chrono::milliseconds(500);
  const auto give_up_at = Clock::now() + std::chrono::seconds(3);
  bool cut_off = false;
  for (;;) {
    const bool all_done = std::all_of(workers.begin(), workers.end(),
                                      [](const auto& worker) { return worker->done.load(); });
    if (all_done) break;
    // An inherited socket may be shared with other processes (spawn-fcgi -F, systemd), so
    // it is not shut down: accept() is interrupted in each thread instead, again and again
    // in case a thread was just about to enter it.
    for (auto& worker : workers) {
      if (!own_socket && worker->accepting && !worker->done) {
        pthread_kill(worker->thread, detail::kick_signal());
      }
    }
    // A thread blocked writing to a viewer that stopped reading would never see the stop.
    if (!cut_off && Clock::now() >= cut_off_at) {
      cut_off = true;
      unsigned cut = 0;
      for (auto& worker : workers) {
        const std::lock_guard<std::mutex> lock(worker->mutex);
        if (worker->active_fd >= 0 && shutdown(worker->active_fd, SHUT_RDWR) == 0) ++cut;
      }
      if (cut > 0)
        log(LogLevel::warning,
            "cut off " + std::to_string(cut) + " requests still running after 500 ms");
    }
    // A handler that is stuck (a bug) must not keep the program from stopping.
    if (Clock::now() >= give_up_at) {
      log(LogLevel::error, "threads still busy 3 s after the stop; exiting without them");
      std::_Exit(1);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  for (auto& worker : workers) pthread_join(worker->thread, nullptr);
}

void Server::start_worker(Worker& worker, int listen_fd) {
  struct Start {
    Server* server;
    Worker* worker;
    int listen_fd;
  };
  auto start = std::make_unique<Start>(Start{this, &worker, listen_fd});
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kThreadStackBytes);
  const int rc = pthread_create(
      &worker.thread, &attributes,
      [](void* arg) -> void* {
        const std::unique_ptr<Start> owned(static_cast<Start*>(arg));
        owned->server->work(*owned->worker, owned->listen_fd);
        return nullptr;
      },
      start.get());
  pthread_attr_destroy(&attributes);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_create");
  start.release();  // the thread owns it now
}

void Server::work(Worker& worker, int listen_fd) {
  FCGX_Request request;
  FCGX_InitRequest(&request, listen_fd, FCGI_FAIL_ACCEPT_ON_INTR);
  while (!detail::stop_requested()) {
    worker.accepting = true;
    const int rc = FCGX_Accept_r(&request);
    worker.accepting = false;
    if (rc < 0) {
      if (detail::stop_requested()) break;
      log(LogLevel::warning, std::string("accept failed: ") + std::strerror(-rc));
      wait_for_stop(std::chrono::milliseconds(100));  // e.g. EMFILE: do not spin
      continue;
    }
    // fcgi2 accepts without SOCK_CLOEXEC, and a program started by another thread (an exec:
    // source) must not inherit the viewer's connection. (The child also closes every
    // descriptor it inherits, which covers a fork between accept() and this line.)
    fcntl(request.ipcFd, F_SETFD, FD_CLOEXEC);
    {
      const std::lock_guard<std::mutex> lock(worker.mutex);
      worker.active_fd = request.ipcFd;
    }
    FcgiSink sink(request);
    PollWaiter waiter = PollWaiter::for_connection(request.ipcFd, detail::stop_fd());
    Router::Context served = context(HeadStyle::cgi);
    served.body_is_empty = [&request] { return fcgi_body_is_empty(request.in); };
    std::optional<Router::Pumped> pumped =
        router_.serve(Request::params_from_environment(request.envp), sink, waiter, served);
    {
      const std::lock_guard<std::mutex> lock(worker.mutex);
      worker.active_fd = -1;
    }
    if (pumped && hand_off(request, std::move(*pumped))) continue;
    // A kept connection would pin this thread to one web-server connection between
    // requests; close it whatever FCGI_KEEP_CONN asked for.
    request.keepConnection = 0;
    FCGX_Finish_r(&request);
  }
  FCGX_Free(&request, 1);
  worker.done = true;
}

// The connection goes to the event loop with the fewest streams; fcgi2 lets go of it
// without writing or closing anything (docs/FCGI2-NOTES.md, "Handing a connection to an
// event loop"), and this worker accepts the next request. False: the viewer is already
// gone, and the request is finished as any other.
bool Server::hand_off(FCGX_Request& request, Router::Pumped pumped) {
  if (!FCGX_HasSeenEOF(request.in) || FCGX_GetError(request.in) != 0) return false;
  FCGX_FFlush(request.out);
  if (FCGX_GetError(request.out) != 0) return false;
  detail::Handoff handoff;
  handoff.fd = request.ipcFd;
  handoff.transport = detail::Transport::fastcgi;
  handoff.request_id = static_cast<std::uint16_t>(request.requestId);
  FCGX_Free(&request, 0);  // the buffers and parameters only: no I/O
  // Before the loop may close the descriptor: its number could then be another worker's
  // connection, which fcgi2 would close at this worker's next accept.
  request.ipcFd = -1;
  request.keepConnection = 0;
  request.envp = nullptr;
  handoff.pump = std::move(pumped.stream.pump);
  handoff.slot = std::move(pumped.stream.slot);
  handoff.name = std::move(pumped.name);
  handoff.started = pumped.stream.started;
  handoff.bytes_sent = pumped.stream.bytes_sent;
  handoff.max_duration = pumped.stream.max_duration;
  const auto least_busy = std::min_element(
      loops_.begin(), loops_.end(), [](const auto& a, const auto& b) {
        return a->streams() < b->streams();
      });
  (*least_busy)->adopt(std::move(handoff));
  return true;
}

int Server::run_cgi(const char* argv0) {
  const char* base = std::strrchr(argv0, '/');
  base = base != nullptr ? base + 1 : argv0;
  const HeadStyle style = std::strncmp(base, "nph-", 4) == 0 ? HeadStyle::nph : HeadStyle::cgi;
  Params params = Request::params_from_environment(environ);
  if (getenv("REQUEST_METHOD") == nullptr) {
    log(LogLevel::info,
        "no --socket and no web server: serving one CGI request for GET / on "
        "standard output");
  }
  FdSink sink(STDOUT_FILENO);
  PollWaiter waiter = PollWaiter::for_output(STDOUT_FILENO, detail::stop_fd());
  // A CGI's body comes on standard input only as CONTENT_LENGTH says (RFC 3875 section 4.2),
  // which the router refuses unread.
  std::optional<Router::Pumped> pumped = router_.serve(std::move(params), sink, waiter,
                                                       context(style));
  if (!pumped) return 0;
  // The same pump as behind FastCGI, over standard output, in this thread.
  struct stat out {};
  detail::Handoff handoff;
  handoff.fd = STDOUT_FILENO;
  handoff.transport = fstat(STDOUT_FILENO, &out) == 0 && S_ISSOCK(out.st_mode)
                          ? detail::Transport::socket
                          : detail::Transport::pipe;
  handoff.pump = std::move(pumped->stream.pump);
  handoff.name = std::move(pumped->name);
  handoff.started = pumped->stream.started;
  handoff.bytes_sent = pumped->stream.bytes_sent;
  handoff.max_duration = pumped->stream.max_duration;
  detail::EventLoop loop(detail::stop_fd());
  loop.adopt(std::move(handoff));
  loop.run_until_empty();
  return 0;
}

}  // namespace pushcgi
