#include "support/process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <utility>

extern char** environ;

namespace pushcgi::test {

std::string bin_path(const std::string& name) {
  return std::string(PUSHCGI_BIN_DIR) + "/" + name;
}

std::string test_bin_path(const std::string& name) {
  return std::string(PUSHCGI_TEST_BIN_DIR) + "/" + name;
}

TempDir::TempDir() {
  char pattern[] = "/tmp/pushcgi-test-XXXXXX";
  if (mkdtemp(pattern) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;
  std::filesystem::remove_all(path_, ignored);
}

Process::Process(const std::vector<std::string>& argv, const SpawnOptions& options) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (options.stdin_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, options.stdin_fd, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  }
  if (options.stdout_fd >= 0) {
    posix_spawn_file_actions_adddup2(&actions, options.stdout_fd, 1);
  } else {
    posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  }
  const std::string err = options.stderr_path.empty() ? "/dev/null" : options.stderr_path;
  if (options.close_stderr) {
    posix_spawn_file_actions_addclose(&actions, 2);
  } else {
    posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  }
  if (!options.working_directory.empty()) {
    if (posix_spawn_file_actions_addchdir_np(&actions, options.working_directory.c_str()) != 0) {
      throw std::runtime_error("cannot set the working directory of " + argv.at(0));
    }
  }

  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  if (options.env) {
    for (const std::string& entry : *options.env) env.push_back(const_cast<char*>(entry.c_str()));
  } else {
    for (char** entry = environ; *entry != nullptr; ++entry) env.push_back(*entry);
  }
  for (const std::string& entry : options.extra_env)
    env.push_back(const_cast<char*>(entry.c_str()));
  env.push_back(nullptr);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  if (options.own_process_group) {
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attributes, 0);
    group_ = true;
  }
  const int rc = posix_spawn(&pid_, args[0], &actions, &attributes, args.data(), env.data());
  posix_spawnattr_destroy(&attributes);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    throw std::runtime_error("cannot start " + argv[0]);
  }
}

Process::~Process() {
  kill();
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)), group_(other.group_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    kill();
    pid_ = std::exchange(other.pid_, -1);
    group_ = other.group_;
  }
  return *this;
}

bool Process::signal(int signal_number) const {
  return pid_ > 0 && ::kill(pid_, signal_number) == 0;
}

std::optional<int> Process::wait_exit(std::chrono::milliseconds timeout) {
  if (pid_ <= 0) return std::nullopt;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      pid_ = -1;
      if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
      return WEXITSTATUS(status);
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

void Process::kill() {
  if (pid_ <= 0) return;
  ::kill(group_ ? -pid_ : pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void Process::stop(std::chrono::milliseconds grace) {
  if (pid_ <= 0) return;
  const pid_t group = pid_;
  ::kill(group_ ? -group : group, SIGTERM);
  if (!wait_exit(grace)) kill();
  // Whatever is left in its group (a web server's workers) goes too.
  if (group_) ::kill(-group, SIGKILL);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

RunResult run_program(const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  TempDir dir;
  const std::string out_path = dir.file("out");
  const int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  SpawnOptions options;
  options.stdout_fd = out_fd;
  options.stderr_path = dir.file("err");
  Process process(argv, options);
  ::close(out_fd);
  RunResult result;
  result.status = process.wait_exit(timeout).value_or(-1);
  result.out = read_file(out_path);
  result.err = read_file(dir.file("err"));
  return result;
}

}  // namespace pushcgi::test
