#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "../unique_fd.hpp"
#include "pushcgi/jpeg.hpp"
#include "pushcgi/log.hpp"
#include "sources.hpp"

extern char** environ;

namespace pushcgi::detail {

namespace {

using Clock = std::chrono::steady_clock;

// A program named without a '/' is looked up in PATH, here, before fork: the child may
// only make async-signal-safe calls until it execs.
std::string resolve(const std::string& program) {
  if (program.find('/') != std::string::npos) return program;
  const char* path = std::getenv("PATH");
  std::string dirs = path != nullptr ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const std::size_t end = std::min(dirs.find(':', start), dirs.size());
    const std::string candidate = dirs.substr(start, end - start) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return program;
}

std::string exit_text(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string("killed by signal ") + std::to_string(WTERMSIG(status));
  return "ended";
}

// Waits for pid up to timeout; true if it was reaped.
bool reap(pid_t pid, Clock::duration timeout, int& status) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno == ECHILD)) return true;
    if (Clock::now() >= deadline) return false;
    ::usleep(5000);
  }
}

}  // namespace

ExecSource::ExecSource(std::vector<std::string> argv, const SourceOptions& options)
    : argv_(std::move(argv)), options_(options) {}

std::string ExecSource::describe() const {
  std::string text = "exec:";
  for (const std::string& arg : argv_) text += " " + arg;
  return text;
}

void ExecSource::run() {
  auto backoff = std::chrono::seconds(1);
  for (;;) {
    const ChildEnd end = run_child();
    pollfd stopping{stop_fd(), POLLIN, 0};
    if (poll(&stopping, 1, 0) > 0) return;
    // A child that keeps failing at once is restarted ever more slowly, up to 30 s.
    backoff =
        end.healthy ? std::chrono::seconds(1) : std::min(backoff * 2, std::chrono::seconds(30));
    // One update, so that a reader never sees half of it.
    set_status(end.reason + "; restart in " + std::to_string(backoff.count()) + " s");
    if (!wait_until(Clock::now() + backoff)) return;
  }
}

ExecSource::ChildEnd ExecSource::run_child() {
  int pipe_fds[2];
  if (pipe2(pipe_fds, O_CLOEXEC) != 0) {
    return {false, std::string("pipe: ") + std::strerror(errno)};
  }
  UniqueFd read_end(pipe_fds[0]);
  const std::string program = resolve(argv_[0]);
  std::vector<char*> args;
  for (const std::string& arg : argv_) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t parent = getpid();

  const pid_t pid = fork();
  if (pid == 0) {
    // The child: only async-signal-safe calls until execve.
    setpgid(0, 0);  // its own group, so that its children are stopped with it
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(pipe_fds[1], STDOUT_FILENO);
    const int null = ::open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, STDIN_FILENO);
    syscall(SYS_close_range, 3U, ~0U, 0U);  // FastCGI connections must not leak into it
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    execve(program.c_str(), args.data(), environ);
    _exit(127);
  }
  ::close(pipe_fds[1]);
  if (pid < 0) {
    return {false, std::string("fork: ") + std::strerror(errno)};
  }
  set_status({});
  log(LogLevel::info, "started " + describe() + " as pid " + std::to_string(pid));
  const auto started = Clock::now();
  // The watchdog: a child gets source_timeout for each whole frame, the first included.
  auto last_frame = started;
  std::uint64_t bytes_since_frame = 0;
  // A hostile child can make the splitter drop a frame every two bytes: they are handed on
  // once per read, with their count, not one call (and lock) each.
  std::uint64_t drops = 0;
  std::string drop_reason;
  MjpegSplitter splitter(
      options_.max_frame_bytes,
      [&](std::string frame) {
        last_frame = Clock::now();
        bytes_since_frame = 0;
        emit(std::move(frame));
      },
      [&](std::string_view reason) {
        ++drops;
        drop_reason.assign(reason);
      });
  const auto hand_on_drops = [&] {
    if (drops > 0) drop(drop_reason, drops);
    drops = 0;
  };
  char buffer[65536];
  bool stopping = false;
  bool silent = false;
  for (;;) {
    const auto left = last_frame + options_.source_timeout - Clock::now();
    if (left <= Clock::duration::zero()) {
      silent = true;
      break;
    }
    const auto left_ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    pollfd fds[2] = {{read_end.get(), POLLIN, 0}, {stop_fd(), POLLIN, 0}};
    const int ready = poll(fds, 2, static_cast<int>(left_ms));
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    if (fds[1].revents & POLLIN) {
      stopping = true;
      break;
    }
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      const ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;  // the child closed its output
      bytes_since_frame += static_cast<std::uint64_t>(n);
      splitter.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
      hand_on_drops();
    }
  }
  splitter.finish();
  hand_on_drops();
  int status = 0;
  if (stopping) {
    ::kill(-pid, SIGTERM);
    if (!reap(pid, std::chrono::seconds(1), status)) {
      ::kill(-pid, SIGKILL);
      reap(pid, std::chrono::seconds(5), status);
    }
    log(LogLevel::info, "stopped " + describe());
    return {true, "stopped"};
  }
  std::string what;
  if (silent) {
    ::kill(-pid, SIGKILL);
    reap(pid, std::chrono::seconds(5), status);
    const std::string seconds = std::to_string(options_.source_timeout.count()) + " s";
    what = bytes_since_frame == 0 ? "child wrote nothing for " + seconds + "; killed"
                                  : "child wrote " + std::to_string(bytes_since_frame) +
                                        " bytes but no whole JPEG in " + seconds + "; killed";
  } else {
    if (!reap(pid, std::chrono::seconds(1), status)) {  // closed its output but lives on
      ::kill(-pid, SIGKILL);
      reap(pid, std::chrono::seconds(5), status);
    }
    what = "child " + exit_text(status);
  }
  ::kill(-pid, SIGKILL);  // anything it left behind in its group

  log(LogLevel::warning, describe() + ": " + what);
  record_incident(what);
  return {Clock::now() - started > std::chrono::seconds(10), what};
}

}  // namespace pushcgi::detail
