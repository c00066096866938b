#include "pushcgi/wait.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <thread>

namespace pushcgi {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Generous bounds: these catch hangs, not timing.
constexpr auto kHang = 2s;

struct Pair {
  Pair() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
  ~Pair() {
    for (int fd : fds)
      if (fd >= 0) close(fd);
  }
  void close_peer() {
    close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};
};

TEST(PollWaiter, ReturnsOnTheDeadline) {
  Pair pair;
  PollWaiter waiter = PollWaiter::for_connection(pair.fds[0], -1);
  const auto deadline = Clock::now() + 50ms;
  EXPECT_EQ(waiter.wait_until(deadline), Wake::deadline);
  EXPECT_GE(Clock::now(), deadline);
  EXPECT_EQ(waiter.wait_until(Clock::now() - 1s), Wake::deadline);
}

TEST(PollWaiter, PeerClosingEndsTheWait) {
  Pair pair;
  PollWaiter waiter = PollWaiter::for_connection(pair.fds[0], -1);
  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    pair.close_peer();
  });
  const auto start = Clock::now();
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s), Wake::viewer_left);
  EXPECT_LT(Clock::now() - start, kHang);
  closer.join();
}

TEST(PollWaiter, BytesAfterTheRequestMeanTheViewerLeft) {
  // Only an FCGI_ABORT_REQUEST (or garbage) can follow a request that was read to its end.
  Pair pair;
  ASSERT_EQ(write(pair.fds[1], "x", 1), 1);
  PollWaiter waiter = PollWaiter::for_connection(pair.fds[0], -1);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s), Wake::viewer_left);
}

TEST(PollWaiter, StopDescriptorMeansShutdown) {
  Pair pair;
  const int stop = eventfd(0, EFD_CLOEXEC);
  PollWaiter waiter = PollWaiter::for_connection(pair.fds[0], stop);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10ms), Wake::deadline);
  const std::uint64_t one = 1;
  ASSERT_EQ(write(stop, &one, sizeof one), 8);
  const auto start = Clock::now();
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s), Wake::shutdown);
  // The descriptor stays readable: every later wait returns at once too.
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s), Wake::shutdown);
  EXPECT_LT(Clock::now() - start, kHang);
  close(stop);
}

TEST(PollWaiter, NotifyDescriptorWakesWithoutBeingRead) {
  Pair pair;
  const int notify = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  PollWaiter waiter = PollWaiter::for_connection(pair.fds[0], -1);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10ms, notify), Wake::deadline);
  const std::uint64_t one = 1;
  ASSERT_EQ(write(notify, &one, sizeof one), 8);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s, notify), Wake::notified);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s, notify), Wake::notified);
  // Without it, the same wait ignores the pending notification.
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10ms), Wake::deadline);
  close(notify);
}

TEST(PollWaiter, OutputWaiterSeesTheReaderLeaveAPipe) {
  int fds[2];
  ASSERT_EQ(pipe2(fds, O_CLOEXEC), 0);
  PollWaiter waiter = PollWaiter::for_output(fds[1], -1);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10ms), Wake::deadline);
  close(fds[0]);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s), Wake::viewer_left);
  close(fds[1]);
}

TEST(PollWaiter, OutputWaiterIgnoresInputOnTheSameSocket) {
  // mod_cgid hands a CGI one socket as standard input and output: request bytes or the
  // end of the request body must not look like a departed viewer.
  Pair pair;
  ASSERT_EQ(write(pair.fds[1], "body", 4), 4);
  ASSERT_EQ(shutdown(pair.fds[1], SHUT_WR), 0);
  PollWaiter waiter = PollWaiter::for_output(pair.fds[0], -1);
  EXPECT_EQ(waiter.wait_until(Clock::now() + 20ms), Wake::deadline);
  pair.close_peer();
  EXPECT_EQ(waiter.wait_until(Clock::now() + 10s), Wake::viewer_left);
}

}  // namespace
}  // namespace pushcgi
