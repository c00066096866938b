// ps.fcgi and webcam.fcgi behind a real web server on a free loopback port, started with
// tools/dev-stack (as `make run` does) and stopped, with everything it started, at the end.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/figures.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace pushcgi::test {

// Every web-server setup tools/dev-stack starts.
inline const std::vector<std::string> kServers = {"nginx", "apache-proxy", "apache-fcgid",
                                                  "apache-cgid"};
// A server's name as a GoogleTest parameter name ("apache_proxy").
std::string server_test_name(const std::string& server);

// The options the tests start both programs with unless they say otherwise (tools/dev-stack
// passes them after --, where it starts the programs itself): none, the defaults a user
// gets.
inline const std::vector<std::string> kStackProgramOptions = {};

class Stack {
 public:
  // server: what tools/dev-stack takes (nginx, ...); webcam_options: more options for
  // webcam.fcgi (WEBCAM_OPTIONS); env: more NAME=VALUE for the stack and its programs;
  // headers: header lines its own requests carry (credentials); program_options: options
  // for both programs ({} starts them with their defaults). Waits until both programs
  // answer.
  explicit Stack(const std::string& server, const std::string& webcam_options = "",
                 const std::vector<std::string>& env = {}, std::string headers = "",
                 const std::vector<std::string>& program_options = kStackProgramOptions);
  ~Stack();
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;

  bool ready() const { return ready_; }
  const std::string& server() const { return server_; }
  // One program serves every viewer (nginx, mod_proxy_fcgi); with mod_fcgid and CGI each
  // viewer has a process of its own, so /state speaks only for itself.
  bool shared_program() const { return server_ == "nginx" || server_ == "apache-proxy"; }
  // Lines of the programs' logs (their own files, or Apache's error log) holding text.
  std::size_t log_lines(const std::string& text) const;
  int port() const { return port_; }
  // The PID of a program the stack started ("ps", "webcam"); -1 if there is none.
  pid_t program_pid(const std::string& program) const;
  // A file in the stack's run directory (the programs' sockets: "webcam.sock").
  std::string run_file(const std::string& name) const { return dir_.file("run/" + name); }
  std::string log() const;  // the stack's and the programs' logs, for failure messages
  std::string get(const std::string& target) {
    return http_get(port_, target, std::chrono::seconds(10), headers_);
  }
  // open_streams from PATH/state, -1 if it does not answer.
  long open_streams(const std::string& program);
  // How long until open_streams of program is n, or nothing within timeout.
  std::optional<std::chrono::steady_clock::duration> wait_open_streams(
      const std::string& program, long n, std::chrono::steady_clock::duration timeout);

 private:
  TempDir dir_;
  std::string server_;
  int port_;
  std::string headers_;
  Process stack_;
  bool ready_ = false;
};

}  // namespace pushcgi::test
