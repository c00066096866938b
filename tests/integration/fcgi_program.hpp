// A FastCGI program of build/bin started on a temporary unix socket, and helpers to read
// multipart output.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "support/fcgi_client.hpp"
#include "support/figures.hpp"
#include "support/process.hpp"

namespace pushcgi::test {

// How an FcgiProgram is started, beyond its arguments.
struct FcgiLaunch {
  std::vector<std::string> wrapper;             // run the program through this
  std::optional<std::vector<std::string>> env;  // its whole environment; default: ours
};

// For FcgiProgram's threads: pass no --threads, so the program runs with its default.
constexpr unsigned kDefaultThreads = 0;

class FcgiProgram {
 public:
  // threads: --threads N, or kDefaultThreads for none.
  FcgiProgram(const std::string& program, unsigned threads,
              std::vector<std::string> extra_args = {}, const FcgiLaunch& launch = {});

  // A client whose request has been sent (nothing read yet).
  FcgiClient request(std::string_view path_info, std::string_view query = "",
                     std::string_view user_agent = "curl/7.88.1");
  // A whole short response (e.g. /state), or what came before timeout.
  std::string fetch(std::string_view path_info, std::string_view query = "");
  // Polls /state until open_streams is n; how long that took, or nothing after timeout.
  std::optional<std::chrono::steady_clock::duration> wait_open_streams(
      long n, std::chrono::steady_clock::duration timeout);

  const std::string& socket_path() const { return socket_; }
  std::string log() const { return read_file(log_); }
  Process& process() { return process_; }

 private:
  TempDir dir_;
  std::string socket_;
  std::string log_;
  Process process_;
};

// hello_push with its defaults.
class HelloPushServer : public FcgiProgram {
 public:
  explicit HelloPushServer(unsigned threads = 4) : FcgiProgram("hello_push", threads) {}
  FcgiClient request(std::string_view user_agent, std::string_view query = "") {
    return FcgiProgram::request("/", query, user_agent);
  }
};

// VERSION as the Makefile sets it, read from the file itself ("" if it has no such line).
std::string makefile_version();

// The exact head hello_push sends for a stream with boundary b.
std::string expected_stream_head(const std::string& b);

}  // namespace pushcgi::test
