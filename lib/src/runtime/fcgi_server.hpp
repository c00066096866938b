// The FastCGI side of a program: worker threads that accept and parse requests with fcgi2
// and run the handlers, and the event loops to which they hand the streams that handlers
// pump, so that a stream holds a descriptor and not a thread.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

#include "pushcgi/router.hpp"
#include "pushcgi/stream_slots.hpp"
#include "runtime/event_loop.hpp"
#include "runtime/fcgi_shutdown.hpp"

struct FCGX_Request;

namespace pushcgi::detail {

class FcgiServer {
 public:
  struct Settings {
    unsigned threads = 1;
    unsigned loops = 1;
    unsigned max_streams = 0;  // 0: from the open-file limit
    std::chrono::seconds max_stream_duration{0};
  };

  // router must outlive this.
  FcgiServer(const Router& router, Settings settings);
  ~FcgiServer();
  FcgiServer(const FcgiServer&) = delete;
  FcgiServer& operator=(const FcgiServer&) = delete;

  // Serves on listen_fd until the program is asked to stop, then stops the workers
  // (stop_workers) and the loops. own_socket: listen_fd is ours (--socket), not inherited.
  // Returns the exit status.
  int run(int listen_fd, bool own_socket);

  // Callable from the handlers while run() serves.
  unsigned open_streams() const { return slots_ ? slots_->open() : 0; }
  unsigned max_streams() const { return slots_ ? slots_->max_streams() : 0; }
  unsigned loops() const { return static_cast<unsigned>(loops_.size()); }

 private:
  bool start(int listen_fd);
  void start_worker(FcgiWorker& worker);
  void work(FcgiWorker& worker);
  bool accept(FcgiWorker& worker, FCGX_Request& request);
  std::optional<Router::Pumped> serve(FcgiWorker& worker, FCGX_Request& request);
  bool hand_off(FCGX_Request& request, Router::Pumped pumped);
  EventLoop& least_busy_loop();
  unsigned stream_limit();  // raises the open-file limit first

  const Router& router_;
  const Settings settings_;
  int listen_fd_ = -1;
  // Declared before the loops, whose streams hold its slots.
  std::unique_ptr<StreamSlots> slots_;
  std::vector<std::unique_ptr<EventLoop>> loops_;
  std::vector<std::unique_ptr<FcgiWorker>> workers_;
};

}  // namespace pushcgi::detail
