// The stop of the FastCGI worker threads, in three stages: their accept() is interrupted, a
// request still running after 500 ms has its connection cut off, and a thread still busy
// after 3 s is left behind by exiting the process.
#pragma once

#include <pthread.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

namespace pushcgi::detail {

// What the stop sees of one worker thread.
struct FcgiWorker {
  pthread_t thread{};
  std::atomic<bool> accepting{false};
  std::atomic<bool> done{false};
  std::mutex mutex;    // guards active_fd
  int active_fd = -1;  // the connection being served, for a forced stop
};

// Shows the stop the connection a worker serves, for as long as this lives.
class ServingConnection {
 public:
  ServingConnection(FcgiWorker& worker, int fd);
  ~ServingConnection();
  ServingConnection(const ServingConnection&) = delete;
  ServingConnection& operator=(const ServingConnection&) = delete;

 private:
  FcgiWorker& worker_;
};

// Called once the stop was requested: returns when every worker has ended and been joined.
// own_socket: listen_fd is the program's own (--socket) and is shut down; an inherited one
// is left open. A thread still busy after 3 s ends the process with status 1.
void stop_workers(std::vector<std::unique_ptr<FcgiWorker>>& workers, int listen_fd,
                  bool own_socket);

}  // namespace pushcgi::detail
