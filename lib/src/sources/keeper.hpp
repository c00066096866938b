// The keeper: a small process between webcam.fcgi and an exec: program, so that nothing the
// program starts outlives webcam.fcgi, even when webcam.fcgi is killed with SIGKILL and runs
// no code at all.
//
// Why a keeper, and not one of the simpler ways:
//  * PR_SET_PDEATHSIG on the program kills the program, but not what it started (a wrapper
//    script's ffmpeg, a helper that left the process group); and it fires when the thread
//    that forked ends, not the process.
//  * Killing the program's process group from webcam.fcgi needs webcam.fcgi to run, which
//    SIGKILL (or the OOM killer) does not allow, and misses whoever called setsid().
//  * A pidfd tells webcam.fcgi that the child ended; it does not help once webcam.fcgi is
//    gone.
// The keeper is forked from webcam.fcgi without exec (no binary to install), is its own
// process group, and is a child subreaper (PR_SET_CHILD_SUBREAPER), so every orphan of the
// program's tree is reparented to it rather than to init. It forks the program into a group
// of its own and watches a lifeline: a socket whose other end only webcam.fcgi holds. When
// webcam.fcgi asks it to stop, or dies however it dies (the lifeline reads end of file), it
// sends SIGTERM to the program's group, SIGKILL after a grace period, then SIGKILL to every
// process left below it until none is. The program itself gets PR_SET_PDEATHSIG(SIGKILL)
// against the keeper, should the keeper be killed.
//
// The keeper is a fork of a multi-threaded program: it makes only async-signal-safe calls
// (system calls; no allocation, no stdio, no locks), on data prepared before fork().
#pragma once

#include <sys/resource.h>

namespace pushcgi::detail {

// Everything the keeper needs, prepared before fork().
struct KeeperPlan {
  const char* program;  // the resolved path
  char* const* argv;    // null-terminated
  char* const* envp;    // null-terminated: the program's whole environment
  int null_fd;          // /dev/null, read-write: the program's standard input
  int output_fd;        // the program's standard output (the write end of a pipe)
  int lifeline_fd;      // the keeper's end of the lifeline
  int grace_ms;         // from SIGTERM to SIGKILL on a graceful stop
  rlimit file_limit;    // the program's RLIMIT_NOFILE: what webcam.fcgi was started with
};

// What webcam.fcgi writes on the lifeline: stop gracefully, or kill at once. Its end of
// file (webcam.fcgi died, however) is a graceful stop. The keeper never writes; its end
// closes when it exits, which is how webcam.fcgi waits for it.
constexpr char kStopGracefully = 't';
constexpr char kKillNow = 'k';

// Runs in the child of fork(); never returns. Exits as the program did (the same exit
// status, or killed by the same signal) once no process it started is left; 127 if the
// program could not be started.
[[noreturn]] void run_keeper(const KeeperPlan& plan);

}  // namespace pushcgi::detail
