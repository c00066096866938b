#include "fcgi_program.hpp"

#include <sstream>
#include <thread>

namespace pushcgi::test {

FcgiProgram::FcgiProgram(const std::string& program, unsigned threads,
                         std::vector<std::string> extra_args, const FcgiLaunch& launch)
    : socket_(dir_.file("program.sock")), log_(dir_.file("program.log")) {
  std::vector<std::string> argv = launch.wrapper;
  for (std::string arg : {bin_path(program), std::string("--socket"), socket_}) {
    argv.push_back(std::move(arg));
  }
  if (threads != kDefaultThreads) {
    argv.push_back("--threads");
    argv.push_back(std::to_string(threads));
  }
  argv.insert(argv.end(), extra_args.begin(), extra_args.end());
  SpawnOptions options;
  options.stderr_path = log_;
  options.env = launch.env;
  process_ = Process(argv, options);
}

FcgiClient FcgiProgram::request(std::string_view path_info, std::string_view query,
                                std::string_view user_agent) {
  FcgiClient client;
  if (client.connect_unix(socket_)) client.send_request(get_params(path_info, query, user_agent));
  return client;
}

std::string FcgiProgram::fetch(std::string_view path_info, std::string_view query) {
  FcgiClient client = request(path_info, query);
  client.read_to_end(std::chrono::seconds(10));
  return client.out();
}

std::optional<std::chrono::steady_clock::duration> FcgiProgram::wait_open_streams(
    long n, std::chrono::steady_clock::duration timeout) {
  const auto start = std::chrono::steady_clock::now();
  while (std::chrono::steady_clock::now() - start < timeout) {
    if (json_field(fetch("/state"), "open_streams") == n) {
      return std::chrono::steady_clock::now() - start;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  return std::nullopt;
}

// VERSION as the Makefile sets it ("VERSION  := 0.1.0"), read from the file itself rather
// than from the define the programs were built with. (No std::regex: GCC 12 warns inside
// <regex> in the sanitizer builds.)
std::string makefile_version() {
  std::istringstream makefile(read_file(std::string(PUSHCGI_SOURCE_DIR) + "/Makefile"));
  for (std::string line; std::getline(makefile, line);) {
    std::istringstream words(line);
    std::string name, assign, value;
    if (words >> name >> assign >> value && name == "VERSION" && assign == ":=") return value;
  }
  return "";
}

std::string expected_stream_head(const std::string& b) {
  return "Status: 200 OK\r\n"
         "Content-Type: multipart/x-mixed-replace; boundary=" +
         b +
         "\r\n"
         "Cache-Control: no-cache, no-store, must-revalidate\r\n"
         "Pragma: no-cache\r\n"
         "Expires: 0\r\n"
         "X-Accel-Buffering: no\r\n"
         "\r\n";
}

}  // namespace pushcgi::test
