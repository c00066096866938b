// The exec: child's start: descriptors closed whatever the kernel allows, /dev/null as its
// standard input or no child at all, a minimal environment, and nothing left after a stop
// that comes right after the start.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <optional>
#include <thread>

#include "pushcgi/sources/source.hpp"
#include "sources/close_descriptors.hpp"
#include "sources/sources.hpp"
#include "support/figures.hpp"
#include "support/process.hpp"

namespace pushcgi {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Runs close_from(3) in a child with descriptors 5, 64 and 900 open (none close-on-exec);
// how many descriptors from 3 to 1023 the child still had after it.
int left_open_after(bool (*close_from)(int)) {
  const pid_t pid = fork();
  if (pid == 0) {
    for (const int fd : {5, 64, 900}) dup2(STDERR_FILENO, fd);
    if (!close_from(3)) _exit(255);
    int open = 0;
    for (int fd = 3; fd < 1024; ++fd) open += fcntl(fd, F_GETFD) >= 0 ? 1 : 0;
    _exit(open);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

TEST(CloseDescriptors, EveryWayClosesEveryDescriptorFromTheFirst) {
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  ASSERT_GT(limit.rlim_cur, 900u);
  EXPECT_EQ(left_open_after(detail::close_descriptors_from), 0);
  EXPECT_EQ(left_open_after(detail::close_listed_descriptors_from), 0);    // no close_range
  EXPECT_EQ(left_open_after(detail::close_numbered_descriptors_from), 0);  // nor /proc
}

// Sets environment variables for its lifetime, and puts back what was there.
class ScopedEnvironment {
 public:
  ScopedEnvironment(std::initializer_list<std::pair<const char*, const char*>> values) {
    for (const auto& [name, value] : values) {
      const char* old = std::getenv(name);
      saved_.emplace_back(name, old != nullptr ? std::optional<std::string>(old) : std::nullopt);
      if (value != nullptr) {
        setenv(name, value, 1);
      } else {
        unsetenv(name);
      }
    }
  }
  ~ScopedEnvironment() {
    for (const auto& [name, value] : saved_) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
      } else {
        unsetenv(name.c_str());
      }
    }
  }
  ScopedEnvironment(const ScopedEnvironment&) = delete;
  ScopedEnvironment& operator=(const ScopedEnvironment&) = delete;

 private:
  std::vector<std::pair<std::string, std::optional<std::string>>> saved_;
};

TEST(ExecEnvironment, PathHomeLangAndWhatTheOperatorPasses) {
  const std::string path = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  const ScopedEnvironment scoped({{"PUSHCGI_TEST_SECRET", "s3"},
                                  {"HTTP_COOKIE", "session=1"},
                                  {"HOME", "/var/lib/cam"},
                                  {"LANG", nullptr},
                                  {"PUSHCGI_TEST_ABSENT", nullptr}});
  EXPECT_EQ(detail::exec_environment(
                {"PUSHCGI_TEST_SECRET", "MODE=night", "PUSHCGI_TEST_ABSENT", "PATH=/opt/cam/bin"}),
            (std::vector<std::string>{"HOME=/var/lib/cam", "PUSHCGI_TEST_SECRET=s3", "MODE=night",
                                      "PATH=/opt/cam/bin"}));
  EXPECT_EQ(detail::exec_environment({}),
            (std::vector<std::string>{"PATH=" + path, "HOME=/var/lib/cam"}));
}

// Takes every free descriptor number below 256 but `spare`, for as long as it lives, and
// puts a socket on standard input, as spawn-fcgi passes the listening socket.
class ScarceDescriptors {
 public:
  explicit ScarceDescriptors(int spare) {
    int pair[2];
    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair);
    saved_stdin_ = fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
    dup2(pair[0], STDIN_FILENO);
    close(pair[0]);
    close(pair[1]);
    getrlimit(RLIMIT_NOFILE, &saved_limit_);
    rlimit low = saved_limit_;
    low.rlim_cur = 256;
    setrlimit(RLIMIT_NOFILE, &low);
    for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;) taken_.push_back(fd);
    for (int k = 0; k < spare && !taken_.empty(); ++k) {
      close(taken_.back());
      taken_.pop_back();
    }
  }
  ~ScarceDescriptors() {
    for (const int fd : taken_) close(fd);
    setrlimit(RLIMIT_NOFILE, &saved_limit_);
    dup2(saved_stdin_, STDIN_FILENO);
    close(saved_stdin_);
  }
  ScarceDescriptors(const ScarceDescriptors&) = delete;
  ScarceDescriptors& operator=(const ScarceDescriptors&) = delete;

 private:
  int saved_stdin_ = -1;
  rlimit saved_limit_{};
  std::vector<int> taken_;
};

TEST(ExecSource, NothingStartsWhenDevNullCannotBeOpened) {
  test::TempDir dir;
  const std::string report = dir.file("report");
  auto source = std::move(
      make_source("exec:" + test::test_bin_path("exec_probe") + " " + report, {}).value());
  std::string status;
  {
    // Two numbers free: the output pipe takes them, and /dev/null finds none.
    const ScarceDescriptors scarce(2);
    source->start([](std::string) {});
    const auto deadline = Clock::now() + 5s;
    while ((status = source->status()).empty() && !std::filesystem::exists(report) &&
           Clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
    }
  }
  source->stop();
  EXPECT_FALSE(std::filesystem::exists(report)) << test::read_file(report);
  EXPECT_EQ(status.rfind("cannot start the child: cannot open /dev/null: ", 0), 0u) << status;
}

TEST(ExecSource, AStopRightAfterTheStartLeavesNoProcess) {
  test::TempDir dir;
  const std::string marker = dir.file("report");  // in every process of the child's tree
  auto source = std::move(make_source("exec:" + test::test_bin_path("exec_probe") + " " + marker +
                                          " --grandchildren " + marker,
                                      {})
                              .value());
  // The stop comes at different moments of the start: before the fork, between the forks,
  // before the exec, after the grandchildren were made.
  for (int round = 0; round < 20; ++round) {
    source->start([](std::string) {});
    std::this_thread::sleep_for(std::chrono::milliseconds(round));
    source->stop();
  }
  const auto deadline = Clock::now() + 5s;
  while (!test::processes_with(marker).empty() && Clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  const std::vector<pid_t> left = test::processes_with(marker);
  for (const pid_t pid : left) kill(pid, SIGKILL);
  EXPECT_TRUE(left.empty()) << ::testing::PrintToString(left);
}

}  // namespace
}  // namespace pushcgi
