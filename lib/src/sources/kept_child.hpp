// An exec: program run under a keeper (keeper.hpp), owned by the thread that started it.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "pushcgi/error.hpp"
#include "runtime/unique_fd.hpp"

namespace pushcgi::detail {

class KeptChild {
 public:
  struct Plan {
    std::string program;                    // the resolved path
    std::vector<std::string> argv;          // argv[0] included
    std::vector<std::string> env;           // NAME=VALUE: the program's whole environment
    std::chrono::milliseconds grace{1000};  // SIGTERM to SIGKILL on a graceful stop
  };

  // Starts the keeper, which starts the program with /dev/null as its standard input,
  // output() as its standard output, webcam.fcgi's standard error, and no other descriptor.
  // Refused (nothing started) if /dev/null, a pipe or the fork fails.
  static Parsed<KeptChild> start(const Plan& plan);

  KeptChild() = default;
  // Stops the program at once and reaps the keeper, if that was not done yet.
  ~KeptChild();
  KeptChild(KeptChild&& other) noexcept;
  KeptChild& operator=(KeptChild&& other) noexcept;
  KeptChild(const KeptChild&) = delete;
  KeptChild& operator=(const KeptChild&) = delete;

  // The read end of the program's standard output.
  int output() const { return output_.get(); }
  // The keeper's process id.
  pid_t pid() const { return keeper_; }
  // Graceful: SIGTERM to the program's group, SIGKILL after the grace period; otherwise
  // SIGKILL at once. Either way every process the program left is killed after it, and
  // then the keeper exits: wait() for it.
  void stop(bool graceful);
  // The program's wait status (the keeper ends as it did) once the keeper has exited and
  // been reaped; nothing if that took longer than timeout.
  std::optional<int> wait(std::chrono::milliseconds timeout);

 private:
  pid_t keeper_ = -1;
  UniqueFd output_;
  UniqueFd lifeline_;
};

}  // namespace pushcgi::detail
