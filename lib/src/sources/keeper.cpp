#include "keeper.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "close_descriptors.hpp"
#include "proc_dir.hpp"

namespace pushcgi::detail {

namespace {

constexpr int kLifeline = 3;          // where the keeper keeps its end of the lifeline
constexpr long kSweepLimitMs = 5000;  // a process stuck in the kernel (D state) is left
constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGHUP};

long now_ms() {
  timespec now{};
  clock_gettime(CLOCK_MONOTONIC, &now);
  return now.tv_sec * 1000L + now.tv_nsec / 1000000L;
}

// webcam.fcgi's handlers write to its stop descriptor, which the keeper shares: they must
// not run here. (fork() ran with every signal blocked, so none could arrive before this.)
void reset_signal_handlers() {
  struct sigaction default_action {};
  default_action.sa_handler = SIG_DFL;
  sigemptyset(&default_action.sa_mask);
  for (int number = 1; number < NSIG; ++number) {
    if (number != SIGKILL && number != SIGSTOP) sigaction(number, &default_action, nullptr);
  }
}

// The signals the keeper takes through a signalfd: a child ended, or a stop.
sigset_t keeper_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGCHLD);
  for (const int number : kStopSignals) sigaddset(&set, number);
  return set;
}

// The program's descriptors at fixed places: 0 /dev/null, 1 the pipe, 2 webcam.fcgi's
// standard error (or /dev/null where it had none, so that nothing the program opens becomes
// its stderr), 3 the lifeline (close-on-exec); nothing else. Each is first copied above 9,
// so that no dup2() overwrites one that is still to be moved.
bool arrange_descriptors(const KeeperPlan& plan) {
  const int null = fcntl(plan.null_fd, F_DUPFD_CLOEXEC, 10);
  const int output = fcntl(plan.output_fd, F_DUPFD_CLOEXEC, 10);
  const int lifeline = fcntl(plan.lifeline_fd, F_DUPFD_CLOEXEC, 10);
  if (null < 0 || output < 0 || lifeline < 0) return false;
  const bool stderr_missing =
      plan.null_fd == 2 || plan.output_fd == 2 || plan.lifeline_fd == 2 || fcntl(2, F_GETFD) < 0;
  if (dup2(null, 0) != 0 || dup2(output, 1) != 1) return false;
  if (dup3(lifeline, kLifeline, O_CLOEXEC) != kLifeline) return false;
  if (stderr_missing && dup2(null, 2) != 2) return false;
  return close_descriptors_from(kLifeline + 1);
}

[[noreturn]] void exec_program(const KeeperPlan& plan, pid_t keeper) {
  setpgid(0, 0);  // in both processes: whichever runs first makes the group
  // Dies with the keeper, however it dies; the keeper has one thread, so "the thread that
  // forked" is the keeper itself.
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != keeper) _exit(127);
  // Nothing else to close: arrange_descriptors() closed all above the lifeline, and the
  // lifeline and the signalfd opened since are close-on-exec.
  setrlimit(RLIMIT_NOFILE, &plan.file_limit);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  execve(plan.program, plan.argv, plan.envp);
  _exit(127);
}

// Reads what is pending on the signalfd; true if a stop signal was among it.
bool take_signals(int signals) {
  bool stop = false;
  signalfd_siginfo info{};
  while (read(signals, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
    if (static_cast<int>(info.ssi_signo) != SIGCHLD) stop = true;
  }
  return stop;
}

// In rising order: a later one overrides an earlier one.
enum class Ask { nothing, stop, kill_now };

// What webcam.fcgi asks on the lifeline; a stop when it closed it or died.
Ask read_lifeline(bool& open) {
  char command = 0;
  const ssize_t n = read(kLifeline, &command, 1);
  if (n == 1) return command == kKillNow ? Ask::kill_now : Ask::stop;
  if (n < 0 && (errno == EINTR || errno == EAGAIN)) return Ask::nothing;
  open = false;  // end of file stays readable: poll it no more
  return Ask::stop;
}

// The program's group, and the program itself: it may have moved to another group
// (setpgid) and must not escape the stop.
void signal_program(pid_t program, int number) {
  kill(-program, number);
  kill(program, number);
}

// Until the program ends; returns its wait status. Children of the keeper that end
// meanwhile (orphans of the program's tree) are reaped on the way.
int watch(pid_t program, int signals, int grace_ms) {
  bool lifeline_open = true;
  long kill_at = -1;  // once stopping: when SIGKILL goes out
  bool killed = false;
  for (;;) {
    int status = 0;
    for (pid_t done; (done = waitpid(-1, &status, WNOHANG)) > 0;) {
      if (done == program) return status;
    }
    Ask ask = Ask::nothing;
    if (kill_at >= 0 && !killed && now_ms() >= kill_at) ask = Ask::kill_now;
    const long left = kill_at < 0 || killed ? -1 : kill_at - now_ms();
    pollfd fds[2] = {{signals, POLLIN, 0}, {lifeline_open ? kLifeline : -1, POLLIN, 0}};
    if (ask == Ask::nothing && poll(fds, 2, left < 0 ? -1 : static_cast<int>(left)) > 0) {
      if ((fds[0].revents & POLLIN) != 0 && take_signals(signals)) ask = Ask::stop;
      if (fds[1].revents != 0) ask = std::max(ask, read_lifeline(lifeline_open));
    }
    if (ask == Ask::stop && kill_at < 0) {
      signal_program(program, SIGTERM);
      kill_at = now_ms() + grace_ms;
    } else if (ask == Ask::kill_now && !killed) {
      signal_program(program, SIGKILL);
      killed = true;
      kill_at = now_ms();
    }
  }
}

// The parent a /proc/PID/stat names ("PID (COMM) STATE PPID ..."; COMM may hold spaces and
// parentheses, so the last ')' ends it); -1 if it cannot be read.
pid_t parent_of(int proc, const char* pid_name) {
  char path[32];
  int length = 0;
  while (pid_name[length] != '\0' && length < 20) {
    path[length] = pid_name[length];
    ++length;
  }
  for (const char c : "/stat") path[length++] = c;  // with its terminating NUL
  const int fd = openat(proc, path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return -1;
  char stat[256];
  const ssize_t n = read(fd, stat, sizeof stat);
  close(fd);
  ssize_t at = n - 1;
  while (at > 0 && stat[at] != ')') --at;
  if (at <= 0 || at + 4 >= n) return -1;
  pid_t parent = 0;
  for (at += 4; at < n && stat[at] >= '0' && stat[at] <= '9'; ++at) {
    parent = parent * 10 + (stat[at] - '0');
  }
  return parent;
}

void kill_children_of(pid_t parent) {
  const int proc = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (proc < 0) return;  // without /proc only the program's group could be killed
  for_each_numbered_entry(proc, [&](int pid, const char* name) {
    if (parent_of(proc, name) == parent) kill(pid, SIGKILL);
  });
  close(proc);
}

// Kills every process left below the keeper, until none is. As a subreaper the keeper
// inherits each orphan of the program's tree, so "its children" are all that is left, even
// a process that left the program's group (setsid) or whose parent died first.
void sweep(int signals) {
  const long give_up_at = now_ms() + kSweepLimitMs;
  for (;;) {
    pid_t done = 0;
    while ((done = waitpid(-1, nullptr, WNOHANG)) > 0) {
    }
    if (done < 0 || now_ms() >= give_up_at) return;  // ECHILD: nobody left
    kill_children_of(getpid());
    pollfd fd{signals, POLLIN, 0};
    poll(&fd, 1, 10);  // a SIGCHLD, or look again for processes reparented meanwhile
    take_signals(signals);
  }
}

// Ends as the program ended, so that webcam.fcgi reports "killed by signal 6" as before.
[[noreturn]] void exit_as(int status) {
  if (WIFSIGNALED(status)) {
    const int number = WTERMSIG(status);
    // No core file of the keeper: it is a copy of webcam.fcgi's memory, of no use.
    prctl(PR_SET_DUMPABLE, 0);
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    signal(number, SIG_DFL);
    sigset_t only;
    sigemptyset(&only);
    sigaddset(&only, number);
    sigprocmask(SIG_UNBLOCK, &only, nullptr);
    kill(getpid(), number);
  }
  _exit(WIFEXITED(status) ? WEXITSTATUS(status) : 127);
}

}  // namespace

void run_keeper(const KeeperPlan& plan) {
  setpgid(0, 0);  // out of webcam.fcgi's group: a terminal's Ctrl-C is webcam.fcgi's to handle
  prctl(PR_SET_NAME, "pushcgi-keeper");
  reset_signal_handlers();
  const sigset_t handled = keeper_signals();
  sigprocmask(SIG_SETMASK, &handled, nullptr);
  if (!arrange_descriptors(plan)) _exit(127);
  prctl(PR_SET_CHILD_SUBREAPER, 1);
  const int signals = signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signals < 0) _exit(127);
  const pid_t keeper = getpid();
  const pid_t program = fork();
  if (program == 0) exec_program(plan, keeper);
  if (program < 0) _exit(127);
  setpgid(program, program);
  // Only the program holds the pipe now: its end of file is the end of the stream.
  close(0);
  close(1);
  const int status = watch(program, signals, plan.grace_ms);
  kill(-program, SIGKILL);  // whatever it left in its group
  sweep(signals);
  exit_as(status);
}

}  // namespace pushcgi::detail
