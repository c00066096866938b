#include "runtime/fcgi_server.hpp"

#include <fcgiapp.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/resource.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <system_error>

#include "pushcgi/fcgi_sink.hpp"
#include "pushcgi/log.hpp"
#include "runtime/file_limit.hpp"
#include "runtime/stop_signal.hpp"

namespace pushcgi::detail {

namespace {

using Clock = std::chrono::steady_clock;

// Handlers need little stack (request data lives on the heap), and thousands of threads
// with the default 8 MB each would take 16 GB of address space at 2,000 streams: more
// than a 32-bit Raspberry Pi has. Sanitizers need several times more.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr std::size_t kThreadStackBytes = 2u << 20;
#else
constexpr std::size_t kThreadStackBytes = 256u << 10;
#endif

// Blocks until the stop descriptor is readable or timeout passes; true if stopping.
bool wait_for_stop(Clock::duration timeout) {
  pollfd fd{stop_fd(), POLLIN, 0};
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(timeout).count();
  const int ready = poll(&fd, 1, static_cast<int>(ms));
  return ready > 0 || stop_requested();
}

// Reads FCGI_STDIN up to its end, which a request without a body has at once (the empty
// record), so that the connection can then be watched for the viewer leaving; false at the
// first byte of a body.
bool fcgi_body_is_empty(FCGX_Stream* in) {
  char byte;
  return FCGX_GetStr(&byte, 1, in) <= 0;
}

// Threads started while this lives have the stop signals blocked, so that only the thread
// that made it (which only waits) takes them.
class StopSignalsBlocked {
 public:
  StopSignalsBlocked() {
    pthread_sigmask(SIG_SETMASK, nullptr, &old_mask_);
    block_stop_signals();
  }
  ~StopSignalsBlocked() { pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr); }
  StopSignalsBlocked(const StopSignalsBlocked&) = delete;
  StopSignalsBlocked& operator=(const StopSignalsBlocked&) = delete;

 private:
  sigset_t old_mask_;
};

}  // namespace

FcgiServer::FcgiServer(const Router& router, Settings settings)
    : router_(router), settings_(settings) {}

FcgiServer::~FcgiServer() = default;

int FcgiServer::run(int listen_fd, bool own_socket) {
  // fcgi2 waits this long (default 2 s) in FCGX_Finish_r for the web server to close the
  // connection; a stop must not wait that long.
  setenv("LIBFCGI_OS_CLOSE_POLL_TIMEOUT", "500", 0);
  if (FCGX_Init() != 0) {
    log(LogLevel::error, "FCGX_Init failed");
    return 1;
  }
  const unsigned threads = settings_.threads;
  // Blocking streams may hold all workers but a quarter (at least one); with one thread
  // that one (the operator asked for no more).
  const unsigned max_blocking = std::max(1u, threads - std::max(1u, threads / 4));
  slots_ = std::make_unique<StreamSlots>(stream_limit(), max_blocking);
  const bool started = start(listen_fd);
  while (!wait_for_stop(std::chrono::hours(1))) {
  }
  log(LogLevel::info, "stopping: " + std::to_string(open_streams()) + " open streams");
  // The loops have seen the stop too and end their streams meanwhile; they take what the
  // workers still hand over until every worker is gone.
  stop_workers(workers_, listen_fd, own_socket);
  for (auto& loop : loops_) loop->stop(detail::EventLoop::kStopGrace);
  for (auto& loop : loops_) loop->join();
  loops_.clear();
  log(LogLevel::info, "stopped");
  return started ? 0 : 1;
}

// Starts the loops, then the workers; false (and the program stops) if a thread could not
// be started.
bool FcgiServer::start(int listen_fd) {
  listen_fd_ = listen_fd;
  const StopSignalsBlocked blocked;
  try {
    for (unsigned i = 0; i < settings_.loops; ++i) {
      loops_.push_back(std::make_unique<EventLoop>(stop_fd()));
      loops_.back()->start();
    }
    for (unsigned i = 0; i < settings_.threads; ++i) {
      auto worker = std::make_unique<FcgiWorker>();
      start_worker(*worker);
      workers_.push_back(std::move(worker));
    }
  } catch (const std::system_error& error) {
    log(LogLevel::error, "cannot start " + std::to_string(settings_.threads) + " threads (" +
                             error.what() + "); lower --threads or raise the limits");
    request_stop();
    return false;
  }
  return true;
}

// Each stream holds one descriptor (its connection); the rest of the open-file limit is
// kept for the workers' connections, sources, logs and the listening socket.
unsigned FcgiServer::stream_limit() {
  const rlimit files = raise_file_limit();
  // Each worker's connection, the replies waiting in the loops, and the rest (sources,
  // logs, the listening socket) have their descriptors first.
  constexpr rlim_t kSpare = 256;
  const rlim_t reserved = rlim_t{settings_.threads} + StreamSlots::kDefaultMaxReplies + kSpare;
  const rlim_t room = files.rlim_cur > reserved ? files.rlim_cur - reserved : 1;
  const unsigned max_streams = settings_.max_streams;
  if (max_streams == 0) return static_cast<unsigned>(std::min<rlim_t>(room, 1000000));
  if (max_streams > room) {
    log(LogLevel::warning, "open file limit " + std::to_string(files.rlim_cur) +
                               " leaves room for " + std::to_string(room) + " of --max-streams " +
                               std::to_string(max_streams) +
                               "; streams beyond it will fail to start");
  }
  return max_streams;
}

void FcgiServer::start_worker(FcgiWorker& worker) {
  struct Start {
    FcgiServer* server;
    FcgiWorker* worker;
  };
  auto start = std::make_unique<Start>(Start{this, &worker});
  pthread_attr_t attributes;
  pthread_attr_init(&attributes);
  pthread_attr_setstacksize(&attributes, kThreadStackBytes);
  const int rc = pthread_create(
      &worker.thread, &attributes,
      [](void* arg) -> void* {
        const std::unique_ptr<Start> owned(static_cast<Start*>(arg));
        owned->server->work(*owned->worker);
        return nullptr;
      },
      start.get());
  pthread_attr_destroy(&attributes);
  if (rc != 0) throw std::system_error(rc, std::generic_category(), "pthread_create");
  start.release();  // the thread owns it now
}

void FcgiServer::work(FcgiWorker& worker) {
  FCGX_Request request;
  FCGX_InitRequest(&request, listen_fd_, FCGI_FAIL_ACCEPT_ON_INTR);
  while (!stop_requested()) {
    if (!accept(worker, request)) continue;
    std::optional<Router::Pumped> pumped = serve(worker, request);
    if (pumped && hand_off(request, std::move(*pumped))) continue;
    // A kept connection would pin this thread to one web-server connection between
    // requests; close it whatever FCGI_KEEP_CONN asked for.
    request.keepConnection = 0;
    FCGX_Finish_r(&request);
  }
  FCGX_Free(&request, 1);
  worker.done = true;
}

// False if no request was accepted (the stop, or an error).
bool FcgiServer::accept(FcgiWorker& worker, FCGX_Request& request) {
  worker.accepting = true;
  const int rc = FCGX_Accept_r(&request);
  worker.accepting = false;
  if (rc < 0) {
    if (stop_requested()) return false;
    log(LogLevel::warning, std::string("accept failed: ") + std::strerror(-rc));
    wait_for_stop(std::chrono::milliseconds(100));  // e.g. EMFILE: do not spin
    return false;
  }
  // fcgi2 accepts without SOCK_CLOEXEC, and a program started by another thread (an exec:
  // source) must not inherit the viewer's connection. (The child also closes every
  // descriptor it inherits, which covers a fork between accept() and this line.)
  fcntl(request.ipcFd, F_SETFD, FD_CLOEXEC);
  return true;
}

std::optional<Router::Pumped> FcgiServer::serve(FcgiWorker& worker, FCGX_Request& request) {
  const ServingConnection serving(worker, request.ipcFd);
  FcgiSink sink(request);
  PollWaiter waiter = PollWaiter::for_connection(request.ipcFd, stop_fd());
  Router::Context context;
  context.style = HeadStyle::cgi;
  context.slots = slots_.get();
  context.max_stream_duration = settings_.max_stream_duration;
  context.body_is_empty = [&request] { return fcgi_body_is_empty(request.in); };
  return router_.serve(Request::params_from_environment(request.envp), sink, waiter, context);
}

// The connection goes to the event loop with the fewest streams; fcgi2 lets go of it
// without writing or closing anything (docs/FCGI2-NOTES.md, "Handing a connection to an
// event loop"), and this worker accepts the next request. False: the viewer is already
// gone, and the request is finished as any other.
bool FcgiServer::hand_off(FCGX_Request& request, Router::Pumped pumped) {
  if (!FCGX_HasSeenEOF(request.in) || FCGX_GetError(request.in) != 0) return false;
  FCGX_FFlush(request.out);
  if (FCGX_GetError(request.out) != 0) return false;
  Handoff handoff;
  handoff.fd = request.ipcFd;
  handoff.transport = Transport::fastcgi;
  handoff.request_id = static_cast<std::uint16_t>(request.requestId);
  FCGX_Free(&request, 0);  // the buffers and parameters only: no I/O
  // Before the loop may close the descriptor: its number could then be another worker's
  // connection, which fcgi2 would close at this worker's next accept.
  request.ipcFd = -1;
  request.keepConnection = 0;
  request.envp = nullptr;
  handoff.pump = std::move(pumped.stream.pump);
  handoff.slot = std::move(pumped.stream.slot);
  handoff.tally = std::move(pumped.stream.tally);
  handoff.name = std::move(pumped.name);
  handoff.started = pumped.stream.started;
  handoff.bytes_sent = pumped.stream.bytes_sent;
  handoff.max_duration = pumped.stream.max_duration;
  least_busy_loop().adopt(std::move(handoff));
  return true;
}

EventLoop& FcgiServer::least_busy_loop() {
  const auto least_busy =
      std::min_element(loops_.begin(), loops_.end(),
                       [](const auto& a, const auto& b) { return a->streams() < b->streams(); });
  return **least_busy;
}

}  // namespace pushcgi::detail
