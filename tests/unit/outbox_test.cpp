#include "runtime/outbox.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "support/fcgi_records.hpp"

namespace pushcgi::detail {
namespace {

using test::end_of_request;
using test::Peer;
using test::Record;
using test::stdout_record;

constexpr std::uint16_t kId = 0x1234;  // both bytes of the request id matter
constexpr std::size_t kCopy = 512;

// Both ends of a connection or a pipe: [0] the writer's, [1] the reader's.
struct Ends {
  explicit Ends(Transport transport) {
    if (transport == Transport::pipe) {
      EXPECT_EQ(pipe2(fds, O_CLOEXEC), 0);
      std::swap(fds[0], fds[1]);  // pipe2 gives the read end first
      // The loop writes its descriptors without blocking; so does this test.
      EXPECT_EQ(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
    } else {
      EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    }
  }
  ~Ends() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  void close_reader() {
    close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};
};

// A write to a pipe without a reader raises SIGPIPE; the programs ignore it, so does this.
struct IgnoreSigpipe {
  IgnoreSigpipe() { old = signal(SIGPIPE, SIG_IGN); }
  ~IgnoreSigpipe() { signal(SIGPIPE, old); }
  void (*old)(int);
};

const char* name(Transport transport) {
  switch (transport) {
    case Transport::fastcgi:
      return "fastcgi";
    case Transport::socket:
      return "socket";
    case Transport::pipe:
      return "pipe";
  }
  return "?";
}

// Bytes that differ from their neighbours, so that a byte out of place shows.
std::shared_ptr<std::string> pattern(std::size_t size) {
  auto bytes = std::make_shared<std::string>(size, '\0');
  for (std::size_t i = 0; i < size; ++i) {
    (*bytes)[i] = static_cast<char>((i * 7 + i / 251) & 0xff);
  }
  return bytes;
}

// Flushes until everything is out, reading the peer each time the descriptor is full.
Outbox::Flush drain(Outbox& out, int fd, Peer& peer, int* blocked = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  for (;;) {
    const Outbox::Flush result = out.flush(fd);
    if (result != Outbox::Flush::blocked) {
      peer.read_available();
      return result;
    }
    if (blocked != nullptr) ++*blocked;
    if (std::chrono::steady_clock::now() > deadline) return result;
    peer.read_available();  // the descriptor is full: there is something to read
  }
}

// Where two byte strings first differ (size if one is the start of the other).
std::size_t first_difference(std::string_view a, std::string_view b) {
  std::size_t i = 0;
  while (i < a.size() && i < b.size() && a[i] == b[i]) ++i;
  return i;
}

TEST(Outbox, UnitIsOneStdoutRecordWithTheRequestIdAndNoPadding) {
  Ends ends(Transport::socket);
  Outbox out(Transport::fastcgi, kId);
  const std::array<std::string_view, 3> pieces = {"--frame\r\n", "", "hello"};
  out.queue(pieces.data(), pieces.size(), nullptr, kCopy);
  EXPECT_FALSE(out.empty());
  const std::string_view second = "world";
  out.queue(&second, 1, nullptr, kCopy);
  Peer peer(ends.fds[1]);
  ASSERT_EQ(out.flush(ends.fds[0]), Outbox::Flush::done);
  EXPECT_TRUE(out.empty());
  peer.read_available();
  const std::string expected = std::string("\x01\x06\x12\x34\x00\x0e\x00\x00", 8) +
                               "--frame\r\nhello" +
                               std::string("\x01\x06\x12\x34\x00\x05\x00\x00", 8) + "world";
  EXPECT_EQ(peer.raw(), expected);
}

TEST(Outbox, BodyOver65535BytesIsSplitIntoRecords) {
  Ends ends(Transport::socket);
  Outbox out(Transport::fastcgi, kId);
  const auto body = pattern(150000);
  const std::array<std::string_view, 2> pieces = {"head\r\n", *body};
  out.queue(pieces.data(), pieces.size(), body, kCopy);
  Peer peer(ends.fds[1]);
  ASSERT_EQ(drain(out, ends.fds[0], peer), Outbox::Flush::done);

  std::size_t rest = 0;
  const std::vector<Record> records = test::parse_records(peer.raw(), &rest);
  EXPECT_EQ(rest, 0u);
  ASSERT_EQ(records.size(), 3u);
  const std::size_t sizes[3] = {65535, 65535, 150006 - 2 * 65535};
  for (std::size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(records[i].version, 1u);
    EXPECT_EQ(records[i].type, test::kFcgiStdout);
    EXPECT_EQ(records[i].request_id, kId);
    EXPECT_EQ(records[i].padding, 0u);
    EXPECT_EQ(records[i].content.size(), sizes[i]);
  }
  const std::string unit = "head\r\n" + *body;
  EXPECT_TRUE(test::stdout_of(records) == unit);
  EXPECT_TRUE(peer.raw() == stdout_record(kId, unit.substr(0, 65535)) +
                                stdout_record(kId, unit.substr(65535, 65535)) +
                                stdout_record(kId, unit.substr(2 * 65535)));
}

TEST(Outbox, EndIsTheEmptyStdoutRecordAndEndRequest) {
  Ends ends(Transport::socket);
  Outbox out(Transport::fastcgi, 7);
  const std::string_view last = "bye";
  out.queue(&last, 1, nullptr, kCopy);
  out.queue_end();
  Peer peer(ends.fds[1]);
  ASSERT_EQ(out.flush(ends.fds[0]), Outbox::Flush::done);
  peer.read_available();
  // FCGI_STDOUT "bye", FCGI_STDOUT empty, FCGI_END_REQUEST {appStatus 0,
  // FCGI_REQUEST_COMPLETE, reserved}.
  const std::string expected(
      "\x01\x06\x00\x07\x00\x03\x00\x00"
      "bye"
      "\x01\x06\x00\x07\x00\x00\x00\x00"
      "\x01\x03\x00\x07\x00\x08\x00\x00"
      "\x00\x00\x00\x00\x00\x00\x00\x00",
      8 + 3 + 8 + 16);
  EXPECT_EQ(peer.raw(), expected);
  EXPECT_EQ(expected.substr(11), end_of_request(7));
}

TEST(Outbox, RawTransportsGetThePlainBytesAndNoEnd) {
  const IgnoreSigpipe ignore;
  for (const Transport transport : {Transport::socket, Transport::pipe}) {
    SCOPED_TRACE(name(transport));
    Ends ends(transport);
    Outbox out(transport, kId);
    out.queue_end();
    EXPECT_TRUE(out.empty());  // nothing to write for the end
    const auto body = pattern(2000);
    const std::array<std::string_view, 3> pieces = {"a", "bc", *body};
    out.queue(pieces.data(), pieces.size(), body, kCopy);
    out.queue_end();
    Peer peer(ends.fds[1]);
    ASSERT_EQ(drain(out, ends.fds[0], peer), Outbox::Flush::done);
    EXPECT_TRUE(out.empty());
    EXPECT_TRUE(peer.raw() == "abc" + *body);
  }
}

TEST(Outbox, WriteThatStopsHalfwayResumesWhereItStopped) {
  const IgnoreSigpipe ignore;
  for (const Transport transport : {Transport::fastcgi, Transport::socket, Transport::pipe}) {
    SCOPED_TRACE(name(transport));
    Ends ends(transport == Transport::pipe ? Transport::pipe : Transport::socket);
    if (transport == Transport::pipe) {
      ASSERT_GT(fcntl(ends.fds[0], F_SETPIPE_SZ, 4096), 0);
    } else {
      const int size = 4096;
      ASSERT_EQ(setsockopt(ends.fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
    }
    Outbox out(transport, kId);
    const auto body = pattern(1 << 20);
    const std::array<std::string_view, 2> pieces = {"head\r\n", *body};
    out.queue(pieces.data(), pieces.size(), body, kCopy);
    Peer peer(ends.fds[1]);

    // The peer does not read: the descriptor takes part of the unit, and the rest waits.
    ASSERT_EQ(out.flush(ends.fds[0]), Outbox::Flush::blocked);
    EXPECT_FALSE(out.empty());
    EXPECT_EQ(out.flush(ends.fds[0]), Outbox::Flush::blocked);  // still full: nothing lost
    // A unit queued meanwhile goes after the one under way.
    const std::string_view tail = "tail";
    out.queue(&tail, 1, nullptr, kCopy);

    int blocked = 0;
    ASSERT_EQ(drain(out, ends.fds[0], peer, &blocked), Outbox::Flush::done);
    EXPECT_GT(blocked, 1);  // it stopped and resumed several times
    const std::string unit = "head\r\n" + *body;
    std::string expected;
    if (transport == Transport::fastcgi) {
      for (std::size_t at = 0; at < unit.size(); at += 65535) {
        expected += stdout_record(kId, unit.substr(at, 65535));
      }
      expected += stdout_record(kId, "tail");
    } else {
      expected = unit + "tail";
    }
    ASSERT_EQ(peer.raw().size(), expected.size());
    EXPECT_EQ(first_difference(peer.raw(), expected), expected.size());
  }
}

TEST(Outbox, PeerThatClosedGivesClosed) {
  const IgnoreSigpipe ignore;
  for (const Transport transport : {Transport::fastcgi, Transport::socket, Transport::pipe}) {
    SCOPED_TRACE(name(transport));
    Ends ends(transport == Transport::pipe ? Transport::pipe : Transport::socket);
    ends.close_reader();
    Outbox out(transport, kId);
    const std::string_view piece = "nobody reads this";
    out.queue(&piece, 1, nullptr, kCopy);
    EXPECT_EQ(out.flush(ends.fds[0]), Outbox::Flush::closed);
  }
}

TEST(Outbox, LargePiecesAreWrittenFromTheirMemoryAndSmallOnesAreCopied) {
  Ends ends(Transport::socket);
  Outbox out(Transport::fastcgi, kId);
  auto large = std::make_shared<std::string>(kCopy + 1, 'L');
  std::string small(kCopy, 's');  // up to copy_bytes: copied
  const std::array<std::string_view, 2> pieces = {small, *large};
  out.queue(pieces.data(), pieces.size(), large, kCopy);
  EXPECT_EQ(large.use_count(), 2);  // the outbox keeps it alive until it is out

  // Changed after queue: the copy goes out as it was, the large piece as it is now.
  small.assign(kCopy, 'S');
  (*large)[0] = 'N';
  Peer peer(ends.fds[1]);
  ASSERT_EQ(out.flush(ends.fds[0]), Outbox::Flush::done);
  EXPECT_EQ(large.use_count(), 1);  // let go once written
  peer.read_available();
  EXPECT_EQ(peer.stdout_bytes(), std::string(kCopy, 's') + "N" + std::string(kCopy, 'L'));
}

// Pieces inside scratch (memory the caller reuses at once, such as an event loop's Parts)
// are copied whatever their size; a piece only partly inside it, or outside it, is written
// from its own memory.
TEST(Outbox, PiecesInsideTheScratchAreCopiedAndNoOthers) {
  const IgnoreSigpipe ignore;
  for (const Transport transport : {Transport::fastcgi, Transport::socket, Transport::pipe}) {
    SCOPED_TRACE(name(transport));
    Ends ends(transport == Transport::pipe ? Transport::pipe : Transport::socket);
    Outbox out(transport, kId);
    std::string memory = *pattern(4000);
    const std::string before = memory;
    const std::string_view all = memory;
    const std::string_view scratch = all.substr(1000, 2000);  // [1000, 3000)
    const std::array<std::string_view, 5> pieces = {
        all.substr(1000, 600),   // the start of the scratch
        all.substr(2000, 1000),  // up to its end
        all.substr(2900, 200),   // over its end
        all.substr(900, 200),    // over its start
        all.substr(3500, 300),   // outside it
    };
    out.queue(pieces.data(), pieces.size(), nullptr, 0, scratch);
    memory.assign(memory.size(), 'z');  // the caller's next use of its memory

    Peer peer(ends.fds[1]);
    ASSERT_EQ(drain(out, ends.fds[0], peer), Outbox::Flush::done);
    const std::string expected =
        before.substr(1000, 600) + before.substr(2000, 1000) + std::string(200 + 200 + 300, 'z');
    const std::string got = transport == Transport::fastcgi ? peer.stdout_bytes() : peer.raw();
    EXPECT_EQ(got.size(), expected.size());
    EXPECT_EQ(first_difference(got, expected), expected.size());
  }
}

}  // namespace
}  // namespace pushcgi::detail
