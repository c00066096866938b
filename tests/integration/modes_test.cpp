// The other ways hello_push is started: with an inherited listening socket (spawn-fcgi,
// mod_fcgid, systemd), as plain and nph- CGI, and behind fcgi2's own cgi-fcgi.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <filesystem>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Reads fd into out until done(out) or timeout or EOF. True if done held.
bool read_fd_until(int fd, std::string& out, const std::function<bool(const std::string&)>& done,
                   std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  char buffer[4096];
  while (!done(out)) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) return done(out);
    out.append(buffer, static_cast<std::size_t>(n));
  }
  return true;
}

std::vector<std::string> cgi_environment(const std::string& user_agent) {
  return {"GATEWAY_INTERFACE=CGI/1.1",
          "SERVER_PROTOCOL=HTTP/1.1",
          "REQUEST_METHOD=GET",
          "SCRIPT_NAME=/cgi-bin/hello",
          "PATH_INFO=",
          "QUERY_STRING=",
          "HTTP_USER_AGENT=" + user_agent,
          "PATH=/usr/bin:/bin"};
}

// Starts program as a CGI with its standard output on a pipe; returns the pipe's read end.
int start_cgi(Process& process, const std::string& program, const std::string& user_agent) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0) return -1;
  SpawnOptions options;
  options.env = cgi_environment(user_agent);
  options.stdout_fd = out[1];
  process = Process({program}, options);
  close(out[1]);
  return out[0];
}

int listen_unix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
  if (bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || listen(fd, 16) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

TEST(Modes, InheritedListeningSocketIsServedAndLeftUsableAfterSigterm) {
  TempDir dir;
  const std::string path = dir.file("shared.sock");
  const int listen_fd = listen_unix(path);
  ASSERT_GE(listen_fd, 0);
  SpawnOptions options;
  options.stdin_fd = listen_fd;
  options.stderr_path = dir.file("log");
  Process program({bin_path("hello_push"), "--threads", "3"}, options);

  FcgiClient client;
  ASSERT_TRUE(client.connect_unix(path));
  ASSERT_TRUE(client.send_request(get_params("/", "", "curl/7.88.1")));
  ASSERT_TRUE(client.read_until(has_parts(1), 10s)) << read_file(dir.file("log"));

  const auto signalled = Clock::now();
  ASSERT_TRUE(program.signal(SIGTERM));
  ASSERT_TRUE(client.read_to_end(2s));
  const std::string close_delimiter = "\r\n--" + boundary_of(client.out()) + "--\r\n";
  EXPECT_EQ(client.out().substr(client.out().size() - close_delimiter.size()), close_delimiter);
  client.close();
  // Two of the three threads were blocked in accept() and had to be interrupted.
  EXPECT_EQ(program.wait_exit(1s), 0) << read_file(dir.file("log"));
  EXPECT_LT(Clock::now() - signalled, 1s);

  // The socket belongs to whoever passed it (other processes may share it): it still
  // accepts connections.
  FcgiClient later;
  EXPECT_TRUE(later.connect_unix(path, 100ms));
  close(listen_fd);
}

TEST(Modes, CgiStreamEndsWhenTheReaderLeaves) {
  Process program;
  const int out = start_cgi(program, bin_path("hello_push"), "curl/7.88.1");
  ASSERT_GE(out, 0);
  std::string received;
  ASSERT_TRUE(read_fd_until(out, received, has_parts(1), 10s)) << received;
  EXPECT_EQ(
      received.rfind("Status: 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=", 0),
      0u);
  close(out);
  // The wait between parts sees the pipe's reader gone (POLLERR), not the next write.
  EXPECT_EQ(program.wait_exit(500ms), 0);
}

TEST(Modes, NphCgiWritesTheStatusLineAndEndsCleanlyOnSigterm) {
  TempDir dir;
  const std::string nph = dir.file("nph-hello_push");
  std::filesystem::create_symlink(bin_path("hello_push"), nph);
  Process program;
  const int out = start_cgi(program, nph, "Mozilla/5.0 (X11; Linux x86_64)");
  ASSERT_GE(out, 0);
  std::string received;
  ASSERT_TRUE(read_fd_until(out, received, has_parts(1), 10s)) << received;
  EXPECT_EQ(
      received.rfind("HTTP/1.1 200 OK\r\nContent-Type: multipart/x-mixed-replace; boundary=", 0),
      0u);
  EXPECT_NE(received.find("\r\nConnection: close\r\n\r\n"), std::string::npos);

  const auto signalled = Clock::now();
  ASSERT_TRUE(program.signal(SIGTERM));
  const std::string close_delimiter = "\r\n--" + boundary_of(received) + "--\r\n";
  auto closed = [&](const std::string& text) {
    return text.size() >= close_delimiter.size() &&
           text.compare(text.size() - close_delimiter.size(), close_delimiter.size(),
                        close_delimiter) == 0;
  };
  EXPECT_TRUE(read_fd_until(out, received, closed, 2s));
  EXPECT_EQ(program.wait_exit(1s), 0);
  EXPECT_LT(Clock::now() - signalled, 1s);
  close(out);
}

TEST(Modes, Fcgi2CgiFcgiToolReadsTheStream) {
  ASSERT_TRUE(std::filesystem::exists("/usr/bin/cgi-fcgi")) << "install libfcgi-bin";
  HelloPushServer server;
  FcgiClient probe;
  ASSERT_TRUE(probe.connect_unix(server.socket_path()));
  probe.close();
  int out[2];
  ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
  SpawnOptions options;
  options.env = cgi_environment("curl/7.88.1");
  options.stdout_fd = out[1];
  Process tool({"/usr/bin/cgi-fcgi", "-bind", "-connect", server.socket_path()}, options);
  close(out[1]);  // cgi-fcgi takes the request from its environment, like a CGI
  std::string received;
  EXPECT_TRUE(read_fd_until(out[0], received, has_parts(2), 10s)) << received;
  EXPECT_EQ(received.rfind("Status: 200 OK\r\n", 0), 0u);
  EXPECT_NE(received.find("Content-Length: 2\r\nX-Timestamp: "), std::string::npos);
  close(out[0]);
}

}  // namespace
}  // namespace pushcgi::test
