// The exec: child of webcam.fcgi inherits nothing (no FastCGI connection, no request
// variable, no descriptor but 0, 1 and 2, /dev/null as its standard input) and nothing it
// starts outlives webcam.fcgi, however webcam.fcgi ends.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <thread>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// What exec_probe wrote: "fd N TARGET", "env NAME=VALUE", "pid|grandchild|daemon PID",
// "nofile N" (kept with the PIDs).
struct Report {
  std::map<int, std::string> fds;
  std::vector<std::string> env;
  std::map<std::string, pid_t> pids;
};

std::optional<Report> wait_for_report(const std::string& path, Clock::duration timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!std::filesystem::exists(path)) {
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(10ms);
  }
  Report report;
  std::istringstream lines(read_file(path));
  for (std::string line; std::getline(lines, line);) {
    const std::size_t space = line.find(' ');
    const std::string kind = line.substr(0, space);
    const std::string rest = line.substr(space + 1);
    if (kind == "fd") {
      report.fds[std::stoi(rest)] = rest.substr(rest.find(' ') + 1);
    } else if (kind == "env") {
      report.env.push_back(rest);
    } else {
      report.pids[kind] = static_cast<pid_t>(std::stoi(rest));
    }
  }
  return report;
}

std::string probe_source(const std::string& report, bool grandchildren = false) {
  return "exec:" + test_bin_path("exec_probe") + " " + report +
         (grandchildren ? " --grandchildren" : "") + " --fps 30";
}

// The sockets of a process without close-on-exec, as "FD socket:[INODE]". (Other
// descriptors may come from whoever started it: the test runner passes some on.)
std::vector<std::string> inheritable_sockets(pid_t pid) {
  std::vector<std::string> found;
  const std::string proc = "/proc/" + std::to_string(pid);
  for (const auto& entry : std::filesystem::directory_iterator(proc + "/fd")) {
    const std::string name = entry.path().filename();
    std::error_code ignored;
    const std::string target = std::filesystem::read_symlink(entry.path(), ignored).string();
    if (target.rfind("socket:", 0) != 0) continue;
    const std::string info = read_file(proc + "/fdinfo/" + name);
    const std::size_t at = info.find("flags:");
    if (at == std::string::npos) continue;  // closed meanwhile
    const unsigned long flags = std::strtoul(info.c_str() + at + 6, nullptr, 8);
    if ((flags & O_CLOEXEC) == 0) found.push_back(name + " " + target);
  }
  return found;
}

// Processes a test left, killed by PID at its end should the code under test not have.
class Leftovers {
 public:
  ~Leftovers() {
    for (const pid_t pid : pids_) {
      if (is_alive(pid)) ::kill(pid, SIGKILL);
    }
  }
  void add(pid_t pid) { pids_.push_back(pid); }
  std::vector<pid_t> alive_after(Clock::duration timeout) const {
    return test::alive_after(pids_, timeout);
  }

 private:
  std::vector<pid_t> pids_;
};

TEST(ExecChild, FastCgiConnectionsAreCloseOnExec) {
  FcgiProgram webcam("webcam.fcgi", 4);
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 10s));
  const std::vector<std::string> open = inheritable_sockets(webcam.process().pid());
  EXPECT_TRUE(open.empty()) << ::testing::PrintToString(open);
}

TEST(ExecChild, AnInheritedListeningSocketIsCloseOnExec) {
  TempDir dir;
  const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", dir.file("s").c_str());
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  SpawnOptions options;
  options.stdin_fd = listener;  // as spawn-fcgi and systemd pass it
  Process webcam({bin_path("webcam.fcgi"), "--threads", "2"}, options);
  close(listener);
  FcgiClient client;
  ASSERT_TRUE(client.connect_unix(dir.file("s")));
  ASSERT_TRUE(client.send_request(get_params("/state", "", "curl/8")));
  ASSERT_TRUE(client.read_to_end(10s));  // it serves: its descriptors are set up
  const std::vector<std::string> open = inheritable_sockets(webcam.pid());
  EXPECT_TRUE(open.empty()) << ::testing::PrintToString(open);
}

// With close_range(2), and where it fails as on kernels before 5.9 (a seccomp filter).
class ExecChildInherits : public ::testing::TestWithParam<bool> {};

TEST_P(ExecChildInherits, OnlyStandardDescriptorsAndTheEnvironmentItIsGiven) {
  TempDir dir;
  const std::string report_path = dir.file("report");
  FcgiLaunch launch;
  if (GetParam()) launch.wrapper = {test_bin_path("no_close_range")};
  launch.env =
      std::vector<std::string>{"PATH=/usr/bin:/bin",  "HOME=/var/lib/cam",     "LANG=C.UTF-8",
                               "CAMERA_PASSWORD=pw1", "HTTP_COOKIE=session=1", "UNRELATED=x"};
  // A descriptor webcam.fcgi inherits without close-on-exec from whoever started it: only
  // closing every descriptor keeps it from the child.
  const int stray = fcntl(STDERR_FILENO, F_DUPFD, 200);
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", probe_source(report_path), "--source-env", "CAMERA_PASSWORD",
                      "--source-env", "MODE=night", "--source-env", "ABSENT"},
                     launch);
  close(stray);
  ASSERT_GE(stray, 200);
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 10s))
      << webcam.log();
  const std::optional<Report> report = wait_for_report(report_path, 5s);
  ASSERT_TRUE(report);
  std::vector<int> numbers;
  for (const auto& [fd, target] : report->fds) numbers.push_back(fd);
  EXPECT_EQ(numbers, (std::vector<int>{0, 1, 2})) << ::testing::PrintToString(report->fds);
  EXPECT_EQ(report->fds.at(0), "/dev/null");
  EXPECT_EQ(report->fds.at(1).rfind("pipe:", 0), 0u) << report->fds.at(1);
  EXPECT_EQ(report->env,
            (std::vector<std::string>{"PATH=/usr/bin:/bin", "HOME=/var/lib/cam", "LANG=C.UTF-8",
                                      "CAMERA_PASSWORD=pw1", "MODE=night"}));
}

// webcam.fcgi raises its own open-file limit for its connections; the camera program gets
// the one webcam.fcgi was started with (a select()-based program breaks above 1,023).
TEST(ExecChild, GetsTheFileLimitWebcamWasStartedWith) {
  rlimit mine{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &mine), 0);
  ASSERT_GT(mine.rlim_max, 1000u);
  rlimit lowered = mine;
  lowered.rlim_cur = 1000;
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  TempDir dir;
  const std::string report_path = dir.file("report");
  FcgiProgram webcam("webcam.fcgi", 4, {"--source", probe_source(report_path)});
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &mine), 0);
  FcgiClient viewer = webcam.request("/stream");
  const std::optional<Report> report = wait_for_report(report_path, 10s);
  ASSERT_TRUE(report) << webcam.log();
  EXPECT_EQ(report->pids.at("nofile"), 1000);
  const std::string limits =
      read_file("/proc/" + std::to_string(webcam.process().pid()) + "/limits");
  EXPECT_EQ(limits.find("Max open files            1000 "), std::string::npos) << limits;
}

INSTANTIATE_TEST_SUITE_P(ExecChild, ExecChildInherits, ::testing::Values(false, true),
                         [](const auto& param_info) {
                           return param_info.param ? "WithoutCloseRange" : "WithCloseRange";
                         });

TEST(ExecChild, CgiRequestVariablesStayOutOfIt) {
  TempDir dir;
  const std::string report_path = dir.file("report");
  SpawnOptions options;
  options.env =
      std::vector<std::string>{"GATEWAY_INTERFACE=CGI/1.1", "REQUEST_METHOD=GET",
                               "SERVER_PROTOCOL=HTTP/1.1",  "SCRIPT_NAME=/webcam",
                               "PATH_INFO=/snapshot",       "QUERY_STRING=",
                               "HTTP_COOKIE=session=s3",    "HTTP_AUTHORIZATION=Basic YTpi",
                               "PATH=/usr/bin:/bin"};
  options.stderr_path = dir.file("log");
  Process webcam({bin_path("webcam.fcgi"), "--source", probe_source(report_path)}, options);
  EXPECT_EQ(webcam.wait_exit(15s), 0) << read_file(dir.file("log"));
  const std::optional<Report> report = wait_for_report(report_path, 1s);
  ASSERT_TRUE(report) << read_file(dir.file("log"));
  EXPECT_EQ(report->env, (std::vector<std::string>{"PATH=/usr/bin:/bin"}));
}

// webcam.fcgi stopped by SIGTERM or killed by SIGKILL: the keeper, the program, the
// program's child in its group that ignores SIGTERM and the one that left the group are
// all gone soon after.
class ExecTree : public ::testing::TestWithParam<int> {};

TEST_P(ExecTree, NoProcessOfItOutlivesWebcam) {
  TempDir dir;
  const std::string report_path = dir.file("report");
  FcgiProgram webcam("webcam.fcgi", 4, {"--source", probe_source(report_path, true)});
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 10s))
      << webcam.log();
  const std::optional<Report> report = wait_for_report(report_path, 5s);
  ASSERT_TRUE(report);
  Leftovers tree;
  for (const char* kind : {"pid", "grandchild", "daemon"}) tree.add(report->pids.at(kind));
  for (const pid_t keeper : descendants_named(webcam.process().pid(), "pushcgi-keeper")) {
    tree.add(keeper);
  }
  ASSERT_TRUE(tree.alive_after(0s).size() >= 3u);

  ASSERT_TRUE(webcam.process().signal(GetParam()));
  EXPECT_TRUE(webcam.process().wait_exit(5s).has_value());
  const std::vector<pid_t> alive = tree.alive_after(5s);
  EXPECT_TRUE(alive.empty()) << ::testing::PrintToString(alive) << " of "
                             << ::testing::PrintToString(report->pids);
}

INSTANTIATE_TEST_SUITE_P(ExecChild, ExecTree, ::testing::Values(SIGTERM, SIGKILL),
                         [](const auto& param_info) {
                           return param_info.param == SIGTERM ? "Sigterm" : "Sigkill";
                         });

// A program that moves itself out of its own process group (into the keeper's, which the
// same session allows), ignores SIGTERM and SIGPIPE and writes nothing is still ended when
// webcam.fcgi is killed: the keeper signals its PID too, not only its group.
TEST(ExecChild, AProgramThatLeavesItsGroupIsStillEnded) {
  TempDir dir;
  const std::string report_path = dir.file("report");
  FcgiProgram webcam(
      "webcam.fcgi", 4,
      {"--source", "exec:" + test_bin_path("exec_probe") + " " + report_path + " --leave-group"});
  FcgiClient viewer = webcam.request("/stream");  // starts the source; it sends no frame
  const std::optional<Report> report = wait_for_report(report_path, 10s);
  ASSERT_TRUE(report) << webcam.log();
  Leftovers tree;
  tree.add(report->pids.at("pid"));
  for (const pid_t keeper : descendants_named(webcam.process().pid(), "pushcgi-keeper")) {
    tree.add(keeper);
  }
  ASSERT_EQ(tree.alive_after(0s).size(), 2u);
  ASSERT_TRUE(webcam.process().signal(SIGKILL));
  EXPECT_TRUE(webcam.process().wait_exit(5s).has_value());
  const std::vector<pid_t> alive = tree.alive_after(10s);
  EXPECT_TRUE(alive.empty()) << ::testing::PrintToString(alive);
}

}  // namespace
}  // namespace pushcgi::test
