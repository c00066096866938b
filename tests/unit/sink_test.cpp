#include "pushcgi/sink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

namespace pushcgi {
namespace {

TEST(StringSink, CollectsPiecesInOrder) {
  StringSink sink;
  EXPECT_EQ(sink.write({"ab", "", "cd"}), WriteResult::ok);
  EXPECT_EQ(sink.write({"e"}), WriteResult::ok);
  EXPECT_EQ(sink.data(), "abcde");
  EXPECT_EQ(sink.writes(), 2u);
}

TEST(StringSink, ActsAsAViewerThatLeaves) {
  StringSink sink(3);
  EXPECT_EQ(sink.write({"ab"}), WriteResult::ok);
  EXPECT_EQ(sink.write({"cd"}), WriteResult::closed);
  EXPECT_EQ(sink.write({"e"}), WriteResult::closed);
  EXPECT_EQ(sink.data(), "abc");
}

TEST(FdSink, GatherWriteOfLargePiecesOverAPipe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  const std::string big(1 << 20, 'x');  // larger than the pipe buffer: partial writes
  std::string received;
  std::thread reader([&] {
    char buffer[65536];
    ssize_t n;
    while ((n = read(fds[0], buffer, sizeof buffer)) > 0)
      received.append(buffer, static_cast<std::size_t>(n));
  });
  {
    FdSink sink(fds[1]);
    EXPECT_EQ(sink.write({"head", big, "tail"}), WriteResult::ok);
  }
  close(fds[1]);
  reader.join();
  close(fds[0]);
  EXPECT_EQ(received, "head" + big + "tail");
}

TEST(FdSink, ClosedSocketPeerIsClosedNotSigpipe) {
  int fds[2];
  ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
  close(fds[1]);
  FdSink sink(fds[0]);
  EXPECT_EQ(sink.write({"hello"}), WriteResult::closed);
  EXPECT_EQ(sink.write({"again"}), WriteResult::closed);
  close(fds[0]);
}

TEST(FdSink, BadDescriptorFails) {
  FdSink sink(-1);
  EXPECT_EQ(sink.write({"x"}), WriteResult::failed);
}

}  // namespace
}  // namespace pushcgi
