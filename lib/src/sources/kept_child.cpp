#include "kept_child.hpp"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "keeper.hpp"
#include "runtime/file_limit.hpp"

namespace pushcgi::detail {

namespace {

std::string failed(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

std::vector<char*> pointers(const std::vector<std::string>& words) {
  std::vector<char*> list;
  for (const std::string& word : words) list.push_back(const_cast<char*>(word.c_str()));
  list.push_back(nullptr);
  return list;
}

// fork() with every signal blocked: the keeper must not run one of webcam.fcgi's handlers
// before it has reset them.
pid_t fork_keeper(const KeeperPlan& plan) {
  sigset_t all;
  sigset_t old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  const pid_t pid = fork();
  if (pid == 0) run_keeper(plan);
  const int saved = errno;
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  errno = saved;
  return pid;
}

}  // namespace

Parsed<KeptChild> KeptChild::start(const Plan& plan) {
  using Result = Parsed<KeptChild>;
  int output[2];
  if (pipe2(output, O_CLOEXEC) != 0) return Result::failure(failed("pipe"));
  KeptChild child;
  child.output_.reset(output[0]);
  const UniqueFd output_write(output[1]);
  // Opened here, not in the child: if it cannot be opened, nothing starts, rather than a
  // program whose standard input is whatever webcam.fcgi's is (a listening socket under
  // spawn-fcgi).
  const UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
  if (!null) return Result::failure(failed("cannot open /dev/null"));
  // A socket rather than a pipe: writing to it after the keeper died must not raise SIGPIPE.
  int lifeline[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, lifeline) != 0) {
    return Result::failure(failed("socketpair"));
  }
  child.lifeline_.reset(lifeline[0]);
  const UniqueFd keeper_end(lifeline[1]);

  std::vector<char*> argv = pointers(plan.argv);
  std::vector<char*> envp = pointers(plan.env);
  const KeeperPlan keeper_plan{plan.program.c_str(),
                               argv.data(),
                               envp.data(),
                               null.get(),
                               output_write.get(),
                               keeper_end.get(),
                               static_cast<int>(plan.grace.count()),
                               inherited_file_limit()};
  const pid_t pid = fork_keeper(keeper_plan);
  if (pid < 0) return Result::failure(failed("fork"));
  setpgid(pid, pid);  // in both processes: whichever runs first makes the group
  child.keeper_ = pid;
  return Result(std::move(child));  // the keeper has its own copies of the other ends
}

KeptChild::~KeptChild() {
  if (keeper_ <= 0) return;
  stop(false);
  if (!wait(std::chrono::seconds(5))) {
    // The keeper itself is stuck: killing it still kills the program (its death signal).
    ::kill(keeper_, SIGKILL);
    waitpid(keeper_, nullptr, 0);
  }
}

KeptChild::KeptChild(KeptChild&& other) noexcept
    : keeper_(std::exchange(other.keeper_, -1)),
      output_(std::move(other.output_)),
      lifeline_(std::move(other.lifeline_)) {}

KeptChild& KeptChild::operator=(KeptChild&& other) noexcept {
  if (this != &other) {
    KeptChild old(std::move(*this));
    keeper_ = std::exchange(other.keeper_, -1);
    output_ = std::move(other.output_);
    lifeline_ = std::move(other.lifeline_);
  }
  return *this;
}

void KeptChild::stop(bool graceful) {
  if (keeper_ <= 0) return;
  const char command = graceful ? kStopGracefully : kKillNow;
  [[maybe_unused]] const ssize_t n = send(lifeline_.get(), &command, 1, MSG_NOSIGNAL);
}

// The keeper's end of the lifeline closes when the keeper exits (nobody else holds it), so
// the wait is a poll on our end, with no timer of its own.
std::optional<int> KeptChild::wait(std::chrono::milliseconds timeout) {
  if (keeper_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left =
        std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    pollfd end{lifeline_.get(), POLLIN, 0};
    const int ready = poll(&end, 1, static_cast<int>(std::max<long long>(0, left.count())));
    if (ready < 0 && errno != EINTR) break;
    if (ready > 0) {
      char ignored;
      const ssize_t n = recv(lifeline_.get(), &ignored, 1, MSG_DONTWAIT);
      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) break;  // end of file
    }
    if (ready == 0 && left.count() <= 0) return std::nullopt;
  }
  int status = 0;
  while (waitpid(keeper_, &status, 0) < 0 && errno == EINTR) {
  }
  keeper_ = -1;
  lifeline_.reset();
  return status;
}

}  // namespace pushcgi::detail
