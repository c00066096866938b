// Figures the tests and benchmarks read: from /proc, from /state JSON, and from samples.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace pushcgi::test {

// The wall clock as Unix seconds, comparable with X-Timestamp.
double wall_seconds_now();

// utime + stime of a process in seconds, from /proc/PID/stat (10 ms ticks).
double cpu_seconds_of(pid_t pid);
// This process's own user + system CPU seconds.
double self_cpu_seconds();
// A number from /proc/PID/status ("VmRSS", "Threads"); 0 if absent or the process is gone.
long status_field(pid_t pid, const std::string& name);
// VmRSS of a process in KiB; 0 if it is gone.
long rss_kib(pid_t pid);
// Its number of threads; 0 if it is gone.
long threads_of(pid_t pid);
// Children of pid whose command line contains text.
std::vector<pid_t> child_pids(pid_t pid, const std::string& text);
// Living processes (zombies do not count) anywhere below pid whose name (comm) is name.
std::vector<pid_t> descendants_named(pid_t pid, const std::string& name);
// Living processes anywhere whose command line contains text.
std::vector<pid_t> processes_with(const std::string& text);
// True while pid is a process that has not ended (a zombie has).
bool is_alive(pid_t pid);
// Polls condition every 50 ms until it holds (true) or timeout has passed (false).
bool eventually(const std::function<bool()>& condition,
                std::chrono::steady_clock::duration timeout);
// Those of pids still alive once none is, or once timeout has passed.
std::vector<pid_t> alive_after(const std::vector<pid_t>& pids,
                               std::chrono::steady_clock::duration timeout);
// Its open file descriptors (entries of /proc/PID/fd); -1 if it is gone.
long open_fds(pid_t pid);

// The number after "name": in a flat JSON text; -1 if absent.
long json_field(const std::string& text, const std::string& name);
double json_double(const std::string& text, const std::string& name);

// The q-quantile (0..1) of values; -1 for none.
double quantile(std::vector<double> values, double q);

// The boundary named in a multipart response's head; "" if none.
std::string boundary_of(const std::string& response);
// Where the body starts (after the head's empty line), or npos.
std::size_t body_start(const std::string& out);
// Parts completed so far: delimiters "\r\n--B\r\n" after the body's start.
std::size_t parts_done(const std::string& out);
// Offset just past the end of the n-th (1-based) delimiter after the body's start.
std::size_t end_of_part(const std::string& out, std::size_t n);
// What follows the head; "" if the head is not complete.
std::string body_of(const std::string& response);
// For read_until: at least n parts completed.
inline auto has_parts(std::size_t n) {
  return [n](const std::string& out) { return parts_done(out) >= n; };
}
// The bodies of the complete parts of a length-framed stream, by their Content-Length.
std::vector<std::string> part_bodies(const std::string& out);
// X-Frame numbers of the parts received, in order (length framing).
std::vector<unsigned long> frame_numbers(const std::string& out);

}  // namespace pushcgi::test
