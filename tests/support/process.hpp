// Child processes and scratch directories for integration tests. Every process a test
// starts is stopped by its PID when its owner goes out of scope.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace pushcgi::test {

// build/bin/NAME
std::string bin_path(const std::string& name);
// build/tests/NAME: helper programs of the tests (tests/helpers/)
std::string test_bin_path(const std::string& name);

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string file(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

struct SpawnOptions {
  std::optional<std::vector<std::string>> env;  // the whole environment; default: inherit
  int stdin_fd = -1;                            // dup'ed to 0; default: /dev/null
  int stdout_fd = -1;                           // dup'ed to 1; default: /dev/null
  std::string stderr_path;                      // default: /dev/null
  bool close_stderr = false;                    // start it with descriptor 2 closed
  std::vector<std::string> extra_env;           // added to the inherited environment
  bool own_process_group = false;               // kill() and stop() then signal the group
  // Default: ours. The program's path is taken after the change, stderr_path before it:
  // give both as absolute paths.
  std::string working_directory;
};

class Process {
 public:
  Process() = default;
  Process(const std::vector<std::string>& argv, const SpawnOptions& options = {});
  ~Process();
  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;

  pid_t pid() const { return pid_; }
  bool signal(int signal_number) const;
  // The exit code (128 + N for a signal), or nothing if it did not exit within timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // SIGKILL and reap, if still running (the whole group, if it has its own).
  void kill();
  // SIGTERM (to the group, if it has its own), then SIGKILL after grace; reaps.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(5));

 private:
  pid_t pid_ = -1;
  bool group_ = false;
};

std::string read_file(const std::string& path);

// Runs argv to its end and returns its exit code, standard output and standard error.
struct RunResult {
  int status = -1;
  std::string out;
  std::string err;
};
RunResult run_program(const std::vector<std::string>& argv,
                      std::chrono::milliseconds timeout = std::chrono::seconds(10));

}  // namespace pushcgi::test
