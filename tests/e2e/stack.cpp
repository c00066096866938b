#include "stack.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <thread>

namespace pushcgi::test {

std::string server_test_name(const std::string& server) {
  std::string name = server;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

Stack::Stack(const std::string& server, const std::string& webcam_options,
             const std::vector<std::string>& env, std::string headers,
             const std::vector<std::string>& program_options)
    : server_(server), port_(free_port()), headers_(std::move(headers)) {
  // Apache's children run as www-data and must get through to the run directory.
  chmod(dir_.path().c_str(), 0711);
  SpawnOptions options;
  options.stderr_path = dir_.file("stack.log");
  options.extra_env = {"PUSHCGI_BIN=" + bin_path("").substr(0, bin_path("").size() - 1),
                       "WEBCAM_OPTIONS=" + webcam_options};
  options.extra_env.insert(options.extra_env.end(), env.begin(), env.end());
  options.own_process_group = true;
  std::vector<std::string> argv = {std::string(PUSHCGI_SOURCE_DIR) + "/tools/dev-stack",
                                   dir_.file("run"), std::to_string(port_), server};
  if (!program_options.empty()) {
    argv.emplace_back("--");
    argv.insert(argv.end(), program_options.begin(), program_options.end());
  }
  stack_ = Process(argv, options);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (open_streams("/ps") == 0 && open_streams("/webcam") == 0) {
      ready_ = true;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

Stack::~Stack() {
  stack_.stop();
}

pid_t Stack::program_pid(const std::string& program) const {
  const std::vector<pid_t> pids = child_pids(stack_.pid(), "/" + program + ".fcgi");
  return pids.size() == 1 ? pids.front() : -1;
}

std::string Stack::log() const {
  std::string text = read_file(dir_.file("stack.log"));
  for (const char* name : {"ps.log", "webcam.log", "nginx-error.log", "apache-error.log"}) {
    text += "\n--- " + std::string(name) + "\n" + read_file(dir_.file("run/") + name);
  }
  return text;
}

std::size_t Stack::log_lines(const std::string& text) const {
  std::size_t count = 0;
  for (const char* name : {"ps.log", "webcam.log", "apache-error.log"}) {
    const std::string log = read_file(dir_.file("run/") + name);
    for (std::size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1))
      ++count;
  }
  return count;
}

long Stack::open_streams(const std::string& program) {
  const std::string response =
      http_get(port_, program + "/state", std::chrono::seconds(5), headers_);
  if (response.rfind("HTTP/1.1 200", 0) != 0 && response.rfind("HTTP/1.0 200", 0) != 0) return -1;
  return json_field(response, "open_streams");
}

std::optional<std::chrono::steady_clock::duration> Stack::wait_open_streams(
    const std::string& program, long n, std::chrono::steady_clock::duration timeout) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    if (open_streams(program) == n) return std::chrono::steady_clock::now() - start;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return std::nullopt;
}

}  // namespace pushcgi::test
