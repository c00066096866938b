#include "runtime/event_loop.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <future>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "pushcgi/hub.hpp"
#include "pushcgi/log.hpp"
#include "pushcgi/pump.hpp"
#include "pushcgi/stream_slots.hpp"
#include "runtime/unique_fd.hpp"
#include "support/fcgi_records.hpp"

namespace pushcgi::detail {
namespace {

using namespace std::chrono_literals;
using test::end_of_request;
using test::Peer;
using test::Record;
using test::stdout_record;

constexpr std::uint16_t kId = 0x0102;
// A bound against hangs only: nothing here waits this long when the code works.
constexpr auto kBound = 10s;

// A connection as the web server holds it: the loop gets [0], the test reads [1].
struct Connection {
  Connection() { EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0); }
  ~Connection() {
    if (fds[1] >= 0) close(fds[1]);
  }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  void small_send_buffer() const {
    const int size = 4096;
    EXPECT_EQ(setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &size, sizeof size), 0);
  }
  void close_peer() {
    close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};  // [0] belongs to the loop once adopted
};

std::shared_ptr<const std::string> text(std::string value) {
  return std::make_shared<const std::string>(std::move(value));
}

// What a viewer gets for one value: a head of its own ("<size>") and the value itself.
std::string unit(const std::string& value, const std::string& after_each = "") {
  return "<" + std::to_string(value.size()) + ">" + value + after_each;
}

std::unique_ptr<Pump> make_pump(Hub<std::string>& hub) {
  return std::make_unique<Pump>(hub, [](const Hub<std::string>::Value& value, Parts& parts) {
    parts.keep = value.data;
    parts.text = "<" + std::to_string(value.data->size()) + ">";
    parts.add(parts.text);
    parts.add(*value.data);
    return true;
  });
}

Handoff handoff(int fd, std::unique_ptr<Pump> pump, StreamSlots* slots = nullptr) {
  Handoff h;
  h.fd = fd;
  h.transport = Transport::fastcgi;
  h.request_id = kId;
  h.pump = std::move(pump);
  if (slots != nullptr) h.slot = slots->take(StreamSlots::Kind::pumped);
  h.name = "GET /test";
  h.started = std::chrono::steady_clock::now();
  return h;
}

// Polls until condition holds or the bound passes.
bool eventually(const std::function<bool()>& condition) {
  const auto deadline = std::chrono::steady_clock::now() + kBound;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs work on a thread and waits for it; a hang aborts the test binary with a message,
// since a thread that never ends cannot be joined.
void finishes_within(const std::function<void()>& work, const char* what) {
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  std::thread thread([&] {
    work();
    done.set_value();
  });
  if (finished.wait_for(kBound) != std::future_status::ready) {
    std::fprintf(stderr, "FATAL: %s did not return within the bound\n", what);
    std::abort();
  }
  thread.join();
}

bool has_stdout(Peer& peer, std::size_t size) {
  return peer.read_until([&] { return peer.stdout_bytes().size() >= size; });
}

// Each record is FCGI_STDOUT or FCGI_END_REQUEST, for this request, without padding.
void expect_clean_records(const Peer& peer) {
  std::size_t rest = 0;
  const std::vector<Record> records = test::parse_records(peer.raw(), &rest);
  EXPECT_EQ(rest, 0u);
  for (const Record& record : records) {
    EXPECT_EQ(record.version, 1u);
    EXPECT_TRUE(record.type == test::kFcgiStdout || record.type == test::kFcgiEndRequest);
    EXPECT_EQ(record.request_id, kId);
    EXPECT_EQ(record.padding, 0u);
  }
}

SubscriptionStats only_viewer(const Hub<std::string>& hub) {
  const std::vector<SubscriptionStats> stats = hub.stats();
  return stats.size() == 1 ? stats[0] : SubscriptionStats{};
}

TEST(EventLoop, ViewerGetsEachValueAsItsPartsInStdoutRecords) {
  Hub<std::string> hub;
  Connection connection;
  EventLoop loop;
  loop.start();
  auto pump = make_pump(hub);
  pump->after_each("\r\n--b\r\n");
  loop.adopt(handoff(connection.fds[0], std::move(pump)));
  Peer peer(connection.fds[1]);

  const std::string large = std::string(70000, 'x') + "three";
  std::string expected;
  for (const std::string& value : {std::string("one"), std::string("two"), large}) {
    hub.publish(text(value));
    expected += unit(value, "\r\n--b\r\n");
    ASSERT_TRUE(has_stdout(peer, expected.size())) << value.substr(0, 5);
  }
  EXPECT_TRUE(peer.stdout_bytes() == expected);
  expect_clean_records(peer);
  // One record per value; the large one in two (FastCGI 1.0 section 3.3: at most 65535).
  const std::string big = unit(large, "\r\n--b\r\n");
  EXPECT_TRUE(peer.raw() == stdout_record(kId, unit("one", "\r\n--b\r\n")) +
                                stdout_record(kId, unit("two", "\r\n--b\r\n")) +
                                stdout_record(kId, big.substr(0, 65535)) +
                                stdout_record(kId, big.substr(65535)));
  EXPECT_EQ(only_viewer(hub).taken, 3u);
  EXPECT_EQ(only_viewer(hub).skipped, 0u);
}

// The value under way stays in the loop (the socket takes little of it): later values are
// skipped, and once the viewer reads it gets the newest.
TEST(EventLoop, ViewerThatDoesNotReadSkipsToTheNewestValue) {
  Hub<std::string> hub;
  Connection connection;
  connection.small_send_buffer();
  EventLoop loop;
  loop.start();
  loop.adopt(handoff(connection.fds[0], make_pump(hub)));
  Peer peer(connection.fds[1]);
  ASSERT_TRUE(eventually([&] { return hub.viewers() == 1; }));

  auto value = [](int n) { return std::string(100000, static_cast<char>('a' + n)); };
  hub.publish(text(value(1)));
  ASSERT_TRUE(eventually([&] { return only_viewer(hub).taken == 1; }));
  for (int n = 2; n <= 5; ++n) hub.publish(text(value(n)));
  // Values 2 to 5 came while 1 was still being written.
  ASSERT_TRUE(eventually([&] { return only_viewer(hub).skipped == 4; }));
  EXPECT_EQ(only_viewer(hub).taken, 1u);

  const std::string expected = unit(value(1)) + unit(value(5));
  ASSERT_TRUE(has_stdout(peer, expected.size()));
  ASSERT_TRUE(eventually([&] { return only_viewer(hub).taken == 2; }));
  // SubscriptionStats::skipped: "values published meanwhile that it never took": 2 to 4.
  EXPECT_EQ(only_viewer(hub).skipped, 3u);
  loop.stop(kBound);  // the end shows that nothing came after 5
  ASSERT_TRUE(peer.read_to_eof());
  EXPECT_TRUE(peer.stdout_bytes() == expected);
  EXPECT_EQ(peer.raw().substr(peer.raw().size() - 24), end_of_request(kId));
  expect_clean_records(peer);
}

// The same when the value under way sits in the socket (the outbox wrote all of it but the
// viewer has not read it): once the viewer reads, it gets the newest value.
TEST(EventLoop, ViewerBehindBySocketBytesGetsTheNewestOnceItReads) {
  Hub<std::string> hub;
  Connection connection;  // default buffers: one value fits in the socket
  EventLoop loop;
  loop.start();
  loop.adopt(handoff(connection.fds[0], make_pump(hub)));
  Peer peer(connection.fds[1]);
  ASSERT_TRUE(eventually([&] { return hub.viewers() == 1; }));

  auto value = [](int n) { return std::string(50000, static_cast<char>('a' + n)); };
  hub.publish(text(value(1)));
  ASSERT_TRUE(eventually([&] { return only_viewer(hub).taken == 1; }));
  hub.publish(text(value(2)));
  hub.publish(text(value(3)));
  ASSERT_TRUE(eventually([&] { return only_viewer(hub).skipped == 2; }));

  const std::string expected = unit(value(1)) + unit(value(3));
  has_stdout(peer, expected.size());
  EXPECT_EQ(peer.stdout_bytes().size(), expected.size()) << "value 3 never went out";
  EXPECT_TRUE(peer.stdout_bytes() == expected);
  // The stream is alive: the next publish goes out (newest value, 4, not 3).
  hub.publish(text(value(4)));
  ASSERT_TRUE(has_stdout(peer, peer.stdout_bytes().size() + unit(value(4)).size()));
  EXPECT_EQ(peer.stdout_bytes().substr(peer.stdout_bytes().size() - unit(value(4)).size()),
            unit(value(4)));
}

TEST(EventLoop, PeerClosingEndsTheStreamAndGivesBackItsSlot) {
  Hub<std::string> hub;
  StreamSlots slots(10, 0);
  Connection leaving;
  Connection staying;
  EventLoop loop;
  loop.start();
  loop.adopt(handoff(leaving.fds[0], make_pump(hub), &slots));
  loop.adopt(handoff(staying.fds[0], make_pump(hub), &slots));
  EXPECT_EQ(slots.open(), 2u);
  ASSERT_TRUE(eventually([&] { return hub.viewers() == 2; }));
  EXPECT_EQ(loop.streams(), 2u);

  // Idle (nothing published): the departure is noticed without a write.
  leaving.close_peer();
  ASSERT_TRUE(eventually([&] { return hub.viewers() == 1; }));
  EXPECT_TRUE(eventually([&] { return slots.open() == 1 && loop.streams() == 1; }));

  // Nothing else notices.
  hub.publish(text("still here"));
  Peer peer(staying.fds[1]);
  ASSERT_TRUE(has_stdout(peer, unit("still here").size()));
  EXPECT_EQ(peer.stdout_bytes(), unit("still here"));
}

TEST(EventLoop, IdleRepeatSendsTheLastValueAgain) {
  Hub<std::string> hub;
  Connection connection;
  EventLoop loop;
  loop.start();
  auto pump = make_pump(hub);
  pump->repeat_when_idle(50ms);
  loop.adopt(handoff(connection.fds[0], std::move(pump)));
  hub.publish(text("picture"));
  Peer peer(connection.fds[1]);

  const std::string once = unit("picture");
  ASSERT_TRUE(has_stdout(peer, 3 * once.size()));
  const std::string out = peer.stdout_bytes();
  EXPECT_EQ(out.size() % once.size(), 0u);
  for (std::size_t at = 0; at + once.size() <= out.size(); at += once.size()) {
    EXPECT_EQ(out.substr(at, once.size()), once);
  }
  EXPECT_EQ(hub.published(), 1u);  // repeats, not new values
  expect_clean_records(peer);
}

TEST(EventLoop, IdleTextIsSentWhenNothingElseIs) {
  Hub<std::string> hub;
  Connection connection;
  EventLoop loop;
  loop.start();
  auto pump = make_pump(hub);
  pump->send_when_idle(50ms, ": keep-alive\n\n");
  loop.adopt(handoff(connection.fds[0], std::move(pump)));
  Peer peer(connection.fds[1]);

  ASSERT_TRUE(peer.read_until([&] { return peer.records().size() >= 2; }));
  for (const Record& record : peer.records()) {
    EXPECT_EQ(record.type, test::kFcgiStdout);
    EXPECT_EQ(record.request_id, kId);
    EXPECT_EQ(record.content, ": keep-alive\n\n");
  }
}

// Viewer `paced` wants a value at most once an hour, `every` every value: the second value
// goes to `every` only, and the end written at stop() shows that `paced` got nothing more.
TEST(EventLoop, PaceSkipsValuesThatComeTooSoon) {
  Hub<std::string> hub;
  Connection paced;
  Connection every;
  EventLoop loop;
  loop.start();
  auto pump = make_pump(hub);
  pump->pace(1h).end_with("--end--");
  loop.adopt(handoff(paced.fds[0], std::move(pump)));
  auto every_pump = make_pump(hub);
  every_pump->end_with("--end--");
  loop.adopt(handoff(every.fds[0], std::move(every_pump)));
  Peer paced_peer(paced.fds[1]);
  Peer every_peer(every.fds[1]);

  hub.publish(text("first"));
  ASSERT_TRUE(has_stdout(paced_peer, unit("first").size()));
  ASSERT_TRUE(has_stdout(every_peer, unit("first").size()));
  hub.publish(text("second"));
  ASSERT_TRUE(has_stdout(every_peer, (unit("first") + unit("second")).size()));

  loop.stop(kBound);
  ASSERT_TRUE(paced_peer.read_to_eof());
  ASSERT_TRUE(every_peer.read_to_eof());
  EXPECT_EQ(paced_peer.stdout_bytes(), unit("first") + "--end--");
  EXPECT_EQ(every_peer.stdout_bytes(), unit("first") + unit("second") + "--end--");
}

TEST(EventLoop, PaceLetsAValueThroughOnceThePeriodHasPassed) {
  Hub<std::string> hub;
  Connection connection;
  EventLoop loop;
  loop.start();
  auto pump = make_pump(hub);
  pump->pace(100ms);
  loop.adopt(handoff(connection.fds[0], std::move(pump)));
  Peer peer(connection.fds[1]);

  hub.publish(text("first"));
  ASSERT_TRUE(has_stdout(peer, unit("first").size()));
  std::this_thread::sleep_for(150ms);  // longer than the period: the next value is due
  hub.publish(text("second"));
  ASSERT_TRUE(has_stdout(peer, (unit("first") + unit("second")).size()));
  EXPECT_EQ(peer.stdout_bytes(), unit("first") + unit("second"));
}

TEST(EventLoop, MaxDurationEndsTheStreamWithItsEndAndEndRequest) {
  Hub<std::string> hub;
  StreamSlots slots(0, 0);
  Connection connection;
  EventLoop loop;
  loop.start();
  hub.publish(text("only"));
  auto pump = make_pump(hub);
  pump->end_with("\r\n--b--\r\n");
  Handoff h = handoff(connection.fds[0], std::move(pump), &slots);
  h.max_duration = 100ms;
  loop.adopt(std::move(h));
  Peer peer(connection.fds[1]);

  ASSERT_TRUE(peer.read_to_eof());
  EXPECT_EQ(peer.raw(), stdout_record(kId, unit("only")) + stdout_record(kId, "\r\n--b--\r\n") +
                            end_of_request(kId));
  EXPECT_TRUE(eventually([&] { return loop.streams() == 0; }));
  EXPECT_EQ(slots.open(), 0u);
  EXPECT_EQ(hub.viewers(), 0u);
}

TEST(EventLoop, StopEndsEveryStreamCleanlyAndTheThreadEnds) {
  Hub<std::string> hub;
  StreamSlots slots(0, 0);
  Connection connections[3];
  EventLoop loop;
  loop.start();
  hub.publish(text("value"));
  for (Connection& connection : connections) {
    auto pump = make_pump(hub);
    pump->end_with("--b--");
    loop.adopt(handoff(connection.fds[0], std::move(pump), &slots));
  }
  std::vector<Peer> peers;
  for (Connection& connection : connections) {
    peers.emplace_back(connection.fds[1]);
    ASSERT_TRUE(has_stdout(peers.back(), unit("value").size()));
  }

  loop.stop(kBound);
  for (Peer& peer : peers) {
    ASSERT_TRUE(peer.read_to_eof());
    EXPECT_EQ(peer.raw(), stdout_record(kId, unit("value")) + stdout_record(kId, "--b--") +
                              end_of_request(kId));
  }
  finishes_within([&] { loop.join(); }, "the loop's thread after stop()");
  EXPECT_EQ(loop.streams(), 0u);
  EXPECT_EQ(slots.open(), 0u);
  EXPECT_EQ(hub.viewers(), 0u);
}

TEST(EventLoop, StopClosesAStreamThatNeverReadsOnceTheGraceRunsOut) {
  Hub<std::string> hub;
  StreamSlots slots(0, 0);
  Connection stuck;
  stuck.small_send_buffer();
  Connection reading;
  EventLoop loop;
  loop.start();
  const std::string large = std::string(1 << 20, 'f');
  hub.publish(text(large));
  for (Connection* connection : {&stuck, &reading}) {
    auto pump = make_pump(hub);
    pump->end_with("--b--");
    loop.adopt(handoff(connection->fds[0], std::move(pump), &slots));
  }
  Peer reading_peer(reading.fds[1]);
  ASSERT_TRUE(has_stdout(reading_peer, unit(large).size()));

  loop.stop(300ms);
  finishes_within([&] { loop.join(); }, "the loop's thread with a viewer that never reads");
  EXPECT_EQ(loop.streams(), 0u);
  EXPECT_EQ(slots.open(), 0u);
  EXPECT_EQ(hub.viewers(), 0u);

  ASSERT_TRUE(reading_peer.read_to_eof());
  EXPECT_TRUE(reading_peer.stdout_bytes() == unit(large) + "--b--");
  EXPECT_EQ(reading_peer.raw().substr(reading_peer.raw().size() - 24), end_of_request(kId));
  // The stuck viewer's connection is closed with its value cut short and no end.
  Peer stuck_peer(stuck.fds[1]);
  ASSERT_TRUE(stuck_peer.read_to_eof());
  EXPECT_LT(stuck_peer.raw().size(), unit(large).size());
  for (const Record& record : stuck_peer.records()) {
    EXPECT_NE(record.type, test::kFcgiEndRequest);
  }
}

// The stop descriptor ends every stream, and the loop stays to end at once what a worker
// still hands over (it used to exit, and such a stream lost its end); stop() ends it.
TEST(EventLoop, StopDescriptorEndsEveryStreamAndOnesHandedOverLater) {
  Hub<std::string> hub;
  Connection connection;
  const UniqueFd stop_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ASSERT_TRUE(stop_fd);
  EventLoop loop(stop_fd.get());
  loop.start();
  hub.publish(text("value"));
  auto pump = make_pump(hub);
  pump->end_with("--b--");
  loop.adopt(handoff(connection.fds[0], std::move(pump)));
  Peer peer(connection.fds[1]);
  ASSERT_TRUE(has_stdout(peer, unit("value").size()));

  const std::uint64_t one = 1;
  ASSERT_EQ(write(stop_fd.get(), &one, sizeof one), static_cast<ssize_t>(sizeof one));
  ASSERT_TRUE(peer.read_to_eof());
  EXPECT_EQ(peer.raw(),
            stdout_record(kId, unit("value")) + stdout_record(kId, "--b--") + end_of_request(kId));

  Connection late;
  auto late_pump = make_pump(hub);
  late_pump->end_with("--late--");
  loop.adopt(handoff(late.fds[0], std::move(late_pump)));
  Peer late_peer(late.fds[1]);
  ASSERT_TRUE(late_peer.read_to_eof());
  EXPECT_EQ(late_peer.raw(), stdout_record(kId, "--late--") + end_of_request(kId));

  loop.stop(std::chrono::seconds(1));
  finishes_within([&] { loop.join(); }, "the loop's thread after stop()");
  EXPECT_EQ(loop.streams(), 0u);
}

TEST(EventLoop, RunUntilEmptyReturnsOnceThePipeStreamEnded) {
  const auto old_sigpipe = signal(SIGPIPE, SIG_IGN);  // as the programs do
  Hub<std::string> hub;
  int ends[2];
  ASSERT_EQ(pipe2(ends, O_CLOEXEC), 0);
  hub.publish(text("plain"));
  EventLoop loop;
  Handoff h = handoff(ends[1], make_pump(hub));
  h.transport = Transport::pipe;
  loop.adopt(std::move(h));

  std::thread reader([&] {
    Peer peer(ends[0]);
    EXPECT_TRUE(peer.read_until([&] { return peer.raw().size() >= unit("plain").size(); }));
    EXPECT_EQ(peer.raw(), unit("plain"));  // no FastCGI framing on a pipe
    close(ends[0]);                        // the reader of a CGI's output goes away
  });
  finishes_within([&] { loop.run_until_empty(); }, "run_until_empty()");
  reader.join();
  EXPECT_EQ(loop.streams(), 0u);
  EXPECT_EQ(hub.viewers(), 0u);
  signal(SIGPIPE, old_sigpipe);
}

TEST(EventLoop, ThousandStreamsOnOneLoopGetAValueFromOnePublish) {
  constexpr unsigned kStreams = 1000;
  rlimit limit{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &limit), 0);
  if (limit.rlim_cur < 2 * kStreams + 100) {
    limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 2 * kStreams + 100);
    setrlimit(RLIMIT_NOFILE, &limit);
    if (limit.rlim_cur < 2 * kStreams + 100) GTEST_SKIP() << "too few descriptors allowed";
  }
  const LogLevel old_level = log_level();
  set_log_level(LogLevel::warning);  // one line per stream ended otherwise

  Hub<std::string> hub;
  std::atomic<unsigned> sent{0};
  {
    std::vector<std::unique_ptr<Connection>> connections;
    EventLoop loop;
    loop.start();
    for (unsigned i = 0; i < kStreams; ++i) {
      connections.push_back(std::make_unique<Connection>());
      auto pump = make_pump(hub);
      pump->on_sent([&sent] { sent.fetch_add(1); });
      loop.adopt(handoff(connections.back()->fds[0], std::move(pump)));
    }
    ASSERT_TRUE(eventually([&] { return hub.viewers() == kStreams; }));

    hub.publish(text("for everyone"));
    for (auto& connection : connections) {
      Peer peer(connection->fds[1]);
      ASSERT_TRUE(has_stdout(peer, unit("for everyone").size()));
      EXPECT_EQ(peer.raw(), stdout_record(kId, unit("for everyone")));
    }
    EXPECT_EQ(sent.load(), kStreams);
    const std::vector<SubscriptionStats> stats = hub.stats();
    ASSERT_EQ(stats.size(), kStreams);
    for (const SubscriptionStats& viewer : stats) {
      EXPECT_EQ(viewer.taken, 1u);
      EXPECT_EQ(viewer.skipped, 0u);
    }
    EXPECT_EQ(loop.streams(), kStreams);
  }
  EXPECT_EQ(hub.viewers(), 0u);
  set_log_level(old_level);
}

// --- the fixes from the review of the event loop ----------------------------------------

// A repeat whose render sends nothing (it declines every value) must still move its next
// repeat one idle time on: it used to leave its deadline in the past, and the loop fired
// its timer again and again without returning to epoll, so no other stream got anything
// and stop() was never seen.
TEST(EventLoop, RepeatWhoseRenderDeclinesLeavesTheLoopServingTheOthers) {
  Hub<std::string> hub;
  Connection declining;
  Connection serving;
  EventLoop loop;
  loop.start();
  std::atomic<unsigned> renders{0};
  auto pump = std::make_unique<Pump>(hub, [&renders](const Hub<std::string>::Value&, Parts&) {
    renders.fetch_add(1);
    return false;  // nothing to send for this value
  });
  pump->repeat_when_idle(20ms);
  loop.adopt(handoff(declining.fds[0], std::move(pump)));
  loop.adopt(handoff(serving.fds[0], make_pump(hub)));
  Peer peer(serving.fds[1]);
  ASSERT_TRUE(eventually([&] { return hub.viewers() == 2; }));

  hub.publish(text("first"));
  ASSERT_TRUE(has_stdout(peer, unit("first").size()));
  // The value and at least one repeat of it were declined.
  ASSERT_TRUE(eventually([&] { return renders.load() >= 2; }));

  hub.publish(text("second"));
  EXPECT_TRUE(has_stdout(peer, (unit("first") + unit("second")).size()))
      << "the other stream got no newly published value";
  // Before the fix the loop never came back from its timers: this aborts the binary.
  finishes_within(
      [&] {
        loop.stop(kBound);
        loop.join();
      },
      "stop() and join() with a repeat whose render declines");
  EXPECT_EQ(peer.stdout_bytes(), unit("first") + unit("second"));
}

// A render whose parts.text is larger than Parts::kCopyBytes, on a stream whose write
// blocks before it: those bytes must be the stream's own when they finally go out, although
// another stream's render has used the loop's scratch meanwhile (they were written from the
// scratch, which then held the other stream's bytes).
TEST(EventLoop, TextOverTheCopySizeGoesOutAsRenderedAfterOtherRendersReuseTheScratch) {
  // After the value, 600 bytes of text: the value's letter in upper case.
  const auto make_trailer_pump = [](Hub<std::string>& hub) {
    return std::make_unique<Pump>(hub, [](const Hub<std::string>::Value& value, Parts& parts) {
      parts.keep = value.data;
      // assign() reuses the scratch's memory, as any render that appends to it does.
      parts.text.assign(600, static_cast<char>(value.data->front() - 'a' + 'A'));
      parts.add(*value.data);
      parts.add(parts.text);
      return true;
    });
  };
  static_assert(600 > Parts::kCopyBytes, "the text must be larger than what is always copied");
  Hub<std::string> stuck_hub;
  Hub<std::string> other_hub;
  Connection stuck;
  stuck.small_send_buffer();
  Connection other;
  EventLoop loop;
  loop.start();
  loop.adopt(handoff(stuck.fds[0], make_trailer_pump(stuck_hub)));
  loop.adopt(handoff(other.fds[0], make_trailer_pump(other_hub)));
  ASSERT_TRUE(eventually([&] { return stuck_hub.viewers() == 1 && other_hub.viewers() == 1; }));

  // Far more than the socket takes: the text stays queued behind the value.
  const std::string value(100000, 'a');
  stuck_hub.publish(text(value));
  ASSERT_TRUE(eventually([&] { return only_viewer(stuck_hub).taken == 1; }));

  // Other values rendered into the same scratch, and written, meanwhile.
  Peer other_peer(other.fds[1]);
  std::string other_expected;
  for (const char* other_value : {"bbb", "ccc"}) {
    other_hub.publish(text(other_value));
    other_expected +=
        std::string(other_value) + std::string(600, static_cast<char>(other_value[0] - 'a' + 'A'));
    ASSERT_TRUE(has_stdout(other_peer, other_expected.size()));
  }
  EXPECT_EQ(other_peer.stdout_bytes(), other_expected);

  Peer stuck_peer(stuck.fds[1]);
  const std::string expected = value + std::string(600, 'A');
  ASSERT_TRUE(has_stdout(stuck_peer, expected.size()));
  const std::string got = stuck_peer.stdout_bytes();
  EXPECT_EQ(got.size(), expected.size());
  EXPECT_TRUE(got.substr(0, value.size()) == value);
  EXPECT_EQ(got.substr(value.size()), std::string(600, 'A'))
      << "the text went out as another stream's render left the scratch";
  expect_clean_records(stuck_peer);
}

// A render that throws ends its own stream (the viewer sees its connection closed and the
// hub loses the viewer); the loop and its other streams go on. It used to escape the loop's
// thread and terminate the process.
TEST(EventLoop, RenderThatThrowsEndsItsStreamOnly) {
  Hub<std::string> hub;
  Connection failing;
  Connection serving;
  EventLoop loop;
  loop.start();
  loop.adopt(handoff(failing.fds[0], std::make_unique<Pump>(
                                         hub, [](const Hub<std::string>::Value&, Parts&) -> bool {
                                           throw std::runtime_error("a bug in the render");
                                         })));
  loop.adopt(handoff(serving.fds[0], make_pump(hub)));
  ASSERT_TRUE(eventually([&] { return hub.viewers() == 2; }));

  hub.publish(text("first"));
  Peer failing_peer(failing.fds[1]);
  ASSERT_TRUE(failing_peer.read_to_eof());
  EXPECT_EQ(failing_peer.raw(), "");
  EXPECT_TRUE(eventually([&] { return hub.viewers() == 1 && loop.streams() == 1; }));

  Peer peer(serving.fds[1]);
  ASSERT_TRUE(has_stdout(peer, unit("first").size()));
  hub.publish(text("second"));
  ASSERT_TRUE(has_stdout(peer, (unit("first") + unit("second")).size()));
  EXPECT_EQ(peer.stdout_bytes(), unit("first") + unit("second"));
}

// The same for on_sent: the value went out, the stream goes on.
TEST(EventLoop, OnSentThatThrowsLeavesTheStreamGoingOn) {
  Hub<std::string> hub;
  Connection connection;
  EventLoop loop;
  loop.start();
  auto pump = make_pump(hub);
  pump->on_sent([] { throw std::runtime_error("a bug in on_sent"); });
  loop.adopt(handoff(connection.fds[0], std::move(pump)));
  Peer peer(connection.fds[1]);
  ASSERT_TRUE(eventually([&] { return hub.viewers() == 1; }));

  hub.publish(text("first"));
  ASSERT_TRUE(has_stdout(peer, unit("first").size()));
  hub.publish(text("second"));
  ASSERT_TRUE(has_stdout(peer, (unit("first") + unit("second")).size()));
  EXPECT_EQ(peer.stdout_bytes(), unit("first") + unit("second"));
  EXPECT_EQ(loop.streams(), 1u);
}

// Behind by its pipe's backlog alone (the loop wrote the whole value, the reader has not
// read it): once the reader takes it, the newest value follows without another publish. A
// pipe (as TCP) tells the writer nothing when the reader takes some of it, so the loop
// has to look again (every 100 ms); it used to wait for the next publish.
TEST(EventLoop, PipeViewerBehindByItsBacklogGetsTheNewestWithoutAnotherPublish) {
  const auto old_sigpipe = signal(SIGPIPE, SIG_IGN);  // as the programs do
  Hub<std::string> hub;
  int ends[2];
  ASSERT_EQ(pipe2(ends, O_CLOEXEC), 0);
  const UniqueFd reader(ends[0]);
  {
    EventLoop loop;
    loop.start();
    Handoff h = handoff(ends[1], make_pump(hub));
    h.transport = Transport::pipe;
    loop.adopt(std::move(h));
    ASSERT_TRUE(eventually([&] { return hub.viewers() == 1; }));

    // One value fits in the pipe (64 KiB) but is more than the backlog the loop accepts.
    auto value = [](int n) { return std::string(30000, static_cast<char>('a' + n)); };
    hub.publish(text(value(1)));
    ASSERT_TRUE(eventually([&] { return only_viewer(hub).taken == 1; }));
    hub.publish(text(value(2)));
    hub.publish(text(value(3)));
    ASSERT_TRUE(eventually([&] { return only_viewer(hub).skipped == 2; }));

    Peer peer(reader.get());
    const std::string expected = unit(value(1)) + unit(value(3));
    EXPECT_TRUE(peer.read_until([&] { return peer.raw().size() >= expected.size(); }))
        << "got " << peer.raw().size() << " bytes of " << expected.size()
        << ": value 3 did not follow once the reader took value 1";
    EXPECT_TRUE(peer.raw() == expected);
    EXPECT_EQ(hub.published(), 3u);
  }
  signal(SIGPIPE, old_sigpipe);
}

// The loop stands for all its streams as one HubWatcher; the hub tells each watcher once
// per publish, however many subscriptions it holds.
class CountingWatcher final : public HubWatcher {
 public:
  void value_ready() override { calls.fetch_add(1); }
  std::atomic<unsigned> calls{0};
};

TEST(EventLoop, HubTellsAWatcherOncePerPublishWhateverItsViewers) {
  Hub<std::string> hub;
  CountingWatcher many;
  CountingWatcher one;
  std::vector<std::unique_ptr<Hub<std::string>::Subscription>> subscriptions;
  for (int i = 0; i < 1000; ++i) {
    subscriptions.push_back(std::make_unique<Hub<std::string>::Subscription>(hub, 0s, "", &many));
  }
  subscriptions.push_back(std::make_unique<Hub<std::string>::Subscription>(hub, 0s, "", &one));
  for (int n = 0; n < 3; ++n) hub.publish(text("value"));
  EXPECT_EQ(many.calls.load(), 3u);
  EXPECT_EQ(one.calls.load(), 3u);
  EXPECT_EQ(subscriptions.front()->notify_fd(), -1);  // told through the watcher only

  subscriptions.pop_back();
  hub.publish(text("value"));
  EXPECT_EQ(many.calls.load(), 4u);
  EXPECT_EQ(one.calls.load(), 3u);  // no longer watching
}

}  // namespace
}  // namespace pushcgi::detail
