#include "runtime/listener.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <fstream>

#include "support/process.hpp"

namespace pushcgi::detail {
namespace {

TEST(SocketSpec, PathsAndAddresses) {
  auto spec = parse_socket_spec("/run/pushcgi/ps.sock");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, SocketSpec::Kind::unix_path);
  EXPECT_EQ(spec->path, "/run/pushcgi/ps.sock");

  spec = parse_socket_spec("ps.sock");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, SocketSpec::Kind::unix_path);

  spec = parse_socket_spec("127.0.0.1:9000");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->kind, SocketSpec::Kind::tcp);
  EXPECT_EQ(spec->host, "127.0.0.1");
  EXPECT_EQ(spec->port, "9000");

  spec = parse_socket_spec(":9000");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->host, "");

  spec = parse_socket_spec("[::1]:9000");
  ASSERT_TRUE(spec);
  EXPECT_EQ(spec->host, "::1");
}

TEST(SocketSpec, BadValuesAreRefused) {
  EXPECT_EQ(parse_socket_spec("host:port").error(), "expected a port from 1 to 65535, got 'port'");
  EXPECT_FALSE(parse_socket_spec("host:0"));
  EXPECT_FALSE(parse_socket_spec("host:65536"));
  EXPECT_FALSE(parse_socket_spec(""));
  EXPECT_FALSE(parse_socket_spec("/" + std::string(200, 'x')));
}

TEST(Listener, UnixSocketGetsTheModeAndIsRemoved) {
  test::TempDir dir;
  const std::string path = dir.file("app.sock");
  {
    auto listener = Listener::open(*parse_socket_spec(path), 0660);
    ASSERT_TRUE(listener) << listener.error();
    EXPECT_TRUE(is_listening_socket(listener->fd()));
    struct stat info {};
    ASSERT_EQ(stat(path.c_str(), &info), 0);
    EXPECT_TRUE(S_ISSOCK(info.st_mode));
    EXPECT_EQ(info.st_mode & 0777, 0660u);
  }
  struct stat info {};
  EXPECT_NE(stat(path.c_str(), &info), 0);
}

TEST(Listener, StaleSocketIsReplacedLiveOneIsNot) {
  test::TempDir dir;
  const std::string path = dir.file("app.sock");
  {
    // A socket file whose program died: bound, then closed without unlink.
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::snprintf(address.sun_path, sizeof address.sun_path, "%s", path.c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
    close(fd);
  }
  auto first = Listener::open(*parse_socket_spec(path), 0600);
  ASSERT_TRUE(first) << first.error();
  auto second = Listener::open(*parse_socket_spec(path), 0600);
  ASSERT_FALSE(second);
  EXPECT_EQ(second.error(), path + " is in use by another program");
}

TEST(Listener, OtherFilesAreNeverReplaced) {
  test::TempDir dir;
  const std::string path = dir.file("notes.txt");
  std::ofstream(path) << "keep me";
  auto listener = Listener::open(*parse_socket_spec(path), 0600);
  ASSERT_FALSE(listener);
  EXPECT_EQ(listener.error(), path + " exists and is not a socket");
  EXPECT_EQ(test::read_file(path), "keep me");
}

TEST(Listener, EmptyHostMeansLoopback) {
  // Find a free port, then listen on ":PORT".
  const int probe = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(probe, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  socklen_t size = sizeof address;
  getsockname(probe, reinterpret_cast<sockaddr*>(&address), &size);
  const std::string port = std::to_string(ntohs(address.sin_port));
  close(probe);

  auto listener = Listener::open(*parse_socket_spec(":" + port), 0);
  ASSERT_TRUE(listener) << listener.error();
  sockaddr_in bound{};
  size = sizeof bound;
  ASSERT_EQ(getsockname(listener->fd(), reinterpret_cast<sockaddr*>(&bound), &size), 0);
  EXPECT_EQ(ntohl(bound.sin_addr.s_addr), INADDR_LOOPBACK);
  EXPECT_EQ(listener->describe(), "127.0.0.1:" + port);
}

}  // namespace
}  // namespace pushcgi::detail
