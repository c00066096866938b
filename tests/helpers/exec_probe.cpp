// A stand-in camera program that tells what it inherited, for the tests of the exec: child:
//
//   exec_probe REPORT [--grandchildren] [--leave-group] [MJPEG_LOOP_ARGS...]
//
// Writes REPORT (complete when it appears: written beside it, then renamed) with a line
// "pid PID", a line "fd N TARGET" per open descriptor, "env NAME=VALUE" per environment
// entry and "nofile N", its soft open-file limit. --grandchildren: it also leaves two processes
// behind, as a wrapper script might, both waiting forever: "grandchild PID" stays in its process
// group and ignores SIGTERM; "daemon PID" leaves the group (setsid), ignores SIGTERM and SIGHUP and
// lets go of the pipe. --leave-group: it moves itself into its parent's process group, ignores
// SIGTERM and SIGPIPE and waits forever holding its output open, so that only SIGKILL to its own
// PID ends it. Otherwise it then becomes mjpeg_loop (beside it) with the remaining arguments, so
// that the source gets frames.
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

extern char** environ;

namespace {

std::string descriptors() {
  std::string lines;
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return "fd-list-missing\n";
  while (const dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name == "." || name == ".." || std::stoi(name) == dirfd(dir)) continue;
    char target[512] = {};
    const ssize_t n = readlink(("/proc/self/fd/" + name).c_str(), target, sizeof target - 1);
    lines +=
        "fd " + name + " " + std::string(target, n > 0 ? static_cast<std::size_t>(n) : 0) + "\n";
  }
  closedir(dir);
  return lines;
}

[[noreturn]] void wait_forever(bool leave_group) {
  signal(SIGTERM, SIG_IGN);
  if (leave_group) {
    setsid();
    signal(SIGHUP, SIG_IGN);
    const int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
  }
  for (;;) pause();
}

pid_t leave_behind(bool leave_group) {
  const pid_t pid = fork();
  if (pid == 0) wait_forever(leave_group);
  return pid;
}

bool write_report(const std::string& path, const std::string& text) {
  const std::string partial = path + ".partial";
  FILE* file = std::fopen(partial.c_str(), "w");
  if (file == nullptr) return false;
  std::fputs(text.c_str(), file);
  std::fclose(file);
  return std::rename(partial.c_str(), path.c_str()) == 0;
}

std::string beside_me(const std::string& name) {
  char self[4096] = {};
  const ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  const std::string path(self, n > 0 ? static_cast<std::size_t>(n) : 0);
  return path.substr(0, path.rfind('/') + 1) + name;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fputs("usage: exec_probe REPORT [--grandchildren] [--leave-group] [MJPEG_LOOP_ARGS...]\n",
               stderr);
    return 2;
  }
  std::string report = "pid " + std::to_string(getpid()) + "\n" + descriptors();
  rlimit files{};
  getrlimit(RLIMIT_NOFILE, &files);
  report += "nofile " + std::to_string(files.rlim_cur) + "\n";
  for (char** entry = environ; *entry != nullptr; ++entry)
    report += "env " + std::string(*entry) + "\n";
  int next = 2;
  if (next < argc && std::string(argv[next]) == "--grandchildren") {
    ++next;
    report += "grandchild " + std::to_string(leave_behind(false)) + "\n";
    report += "daemon " + std::to_string(leave_behind(true)) + "\n";
  }
  bool leave_group = false;
  if (next < argc && std::string(argv[next]) == "--leave-group") {
    ++next;
    leave_group = setpgid(0, getpgid(getppid())) == 0;
    if (!leave_group) return 1;
  }
  if (!write_report(argv[1], report)) return 1;
  if (leave_group) {
    signal(SIGTERM, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);
    for (;;) pause();
  }
  const std::string loop = beside_me("mjpeg_loop");
  std::vector<char*> args = {const_cast<char*>(loop.c_str())};
  for (int i = next; i < argc; ++i) args.push_back(argv[i]);
  args.push_back(nullptr);
  execv(loop.c_str(), args.data());
  return 127;
}
