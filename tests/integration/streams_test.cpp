// Issue 12: streams without a thread each. Over real FastCGI sockets: the 503 beyond
// --max-streams, a never-reading viewer skipped while the others get every frame, blocking
// handlers bounded by the workers, and workers that streams never hold.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <functional>
#include <thread>

#include "fcgi_program.hpp"
#include "support/http_client.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr const char* kCurl = "curl/7.88.1";

// The status line of a response, for failure messages.
std::string status_line(const std::string& out) {
  return out.empty() ? "nothing" : "'" + out.substr(0, out.find("\r\n")) + "'";
}

bool is_503(const std::string& out) {
  return out.rfind("Status: 503 Service Unavailable\r\n", 0) == 0;
}

bool has_retry_after(const std::string& out) {
  const std::size_t end = out.find("\r\n\r\n");
  const std::size_t at = out.find("\r\nRetry-After: ");
  return end != std::string::npos && at != std::string::npos && at < end;
}

// Reads every client at once, each on its own thread (so that no socket buffer decides),
// until done holds for it or timeout. Whether done held, client by client.
std::vector<char> read_all_until(std::vector<FcgiClient>& clients,
                                 const std::function<bool(const std::string&)>& done,
                                 std::chrono::milliseconds timeout) {
  std::vector<char> held(clients.size(), 0);  // not vector<bool>: one writer each
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    readers.emplace_back([&, i] { held[i] = clients[i].read_until(done, timeout); });
  }
  for (std::thread& reader : readers) reader.join();
  return held;
}

// A stream that is served once a slot is free again (the program notices a departure and
// frees its slot a moment after the close): asks again until one is, within 10 s.
bool served_again(const std::function<FcgiClient()>& request, std::string& last) {
  const auto deadline = Clock::now() + 10s;
  while (Clock::now() < deadline) {
    FcgiClient again = request();
    if (again.read_until(has_parts(1), 2s) && again.out().rfind("Status: 200 OK\r\n", 0) == 0) {
      return true;
    }
    last = again.out();
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// --- 503 beyond --max-streams ------------------------------------------------------------

TEST(StreamLimits, WebcamBeyondMaxStreamsGets503AtOnceAndTheOthersGoOn) {
  FcgiProgram webcam("webcam.fcgi", kDefaultThreads, {"--max-streams", "5", "--size", "160x120"});
  std::vector<FcgiClient> viewers;
  for (int i = 0; i < 5; ++i) viewers.push_back(webcam.request("/stream"));
  const std::vector<char> first = read_all_until(viewers, has_parts(1), 10s);
  for (std::size_t i = 0; i < viewers.size(); ++i) {
    ASSERT_TRUE(first[i]) << "viewer " << i << ": " << viewers[i].out().substr(0, 200);
  }

  FcgiClient sixth = webcam.request("/stream");
  // At once: a generous bound that catches a hang, not a slow machine.
  ASSERT_TRUE(sixth.read_to_end(5s))
      << "the sixth stream did not end within 5 s; got " << status_line(sixth.out());
  const std::string& refused = sixth.out();
  EXPECT_TRUE(is_503(refused)) << status_line(refused);
  EXPECT_TRUE(has_retry_after(refused)) << refused.substr(0, 300);
  const std::string reason = body_of(refused);
  EXPECT_FALSE(reason.empty()) << refused;
  EXPECT_EQ(std::count(reason.begin(), reason.end(), '\n'), 1) << reason;
  EXPECT_EQ(reason.back(), '\n') << reason;
  EXPECT_TRUE(sixth.ended());

  // The five go on receiving.
  std::vector<std::size_t> before;
  for (const FcgiClient& viewer : viewers) before.push_back(parts_done(viewer.out()));
  std::vector<char> more(viewers.size(), 0);
  {
    std::vector<std::thread> readers;
    for (std::size_t i = 0; i < viewers.size(); ++i) {
      readers.emplace_back(
          [&, i] { more[i] = viewers[i].read_until(has_parts(before[i] + 3), 10s); });
    }
    for (std::thread& reader : readers) reader.join();
  }
  for (std::size_t i = 0; i < viewers.size(); ++i) {
    EXPECT_TRUE(more[i]) << "viewer " << i << " stopped at " << parts_done(viewers[i].out())
                         << " parts";
  }
  EXPECT_EQ(json_field(body_of(webcam.fetch("/state")), "open_streams"), 5);

  // One leaves: a new one is served.
  viewers.front().close();
  std::string last;
  EXPECT_TRUE(served_again([&] { return webcam.request("/stream"); }, last)) << status_line(last);
}

// --- a viewer that never reads ------------------------------------------------------------

// webcam.fcgi on a loopback TCP port, so that a viewer's receive buffer (SO_RCVBUF) is what
// bounds what the program can write to it.
class TcpWebcam {
 public:
  explicit TcpWebcam(const std::vector<std::string>& options) : port_(free_port()) {
    std::vector<std::string> argv = {bin_path("webcam.fcgi"), "--socket",
                                     "127.0.0.1:" + std::to_string(port_)};
    argv.insert(argv.end(), options.begin(), options.end());
    SpawnOptions spawn;
    spawn.stderr_path = dir_.file("webcam.log");
    process_ = Process(argv, spawn);
    ready_ = wait_for_port(port_, 10s);
  }
  bool ready() const { return ready_; }
  std::string log() const { return read_file(dir_.file("webcam.log")); }

  // A client whose request has been sent; receive_buffer: SO_RCVBUF before connecting.
  FcgiClient request(std::string_view path_info, int receive_buffer = 0) {
    FcgiClient client;
    if (client.connect_fd(connect_loopback(port_, receive_buffer))) {
      client.send_request(get_params(path_info, "", kCurl));
    }
    return client;
  }
  std::string fetch(std::string_view path_info) {
    FcgiClient client = request(path_info);
    client.read_to_end(5s);
    return client.out();
  }

 private:
  TempDir dir_;
  int port_;
  Process process_;
  bool ready_ = false;
};

// frames_skipped of each viewer in a webcam /state, in its order.
std::vector<long> frames_skipped_of_viewers(const std::string& state) {
  std::vector<long> skipped;
  for (std::size_t at = state.find("\"frames_skipped\":"); at != std::string::npos;
       at = state.find("\"frames_skipped\":", at + 1)) {
    skipped.push_back(std::atol(state.c_str() + at + 17));
  }
  return skipped;
}

TEST(SlowViewers, ANeverReadingViewerIsSkippedWhileReadersGetEveryFrame) {
  TcpWebcam webcam({"--fps", "10"});
  ASSERT_TRUE(webcam.ready()) << webcam.log();
  // The smallest receive buffer the kernel allows: full after the first frame.
  FcgiClient stalled = webcam.request("/stream", 4096);
  ASSERT_GE(stalled.fd(), 0);
  std::this_thread::sleep_for(1s);  // its buffers fill

  constexpr int kReaders = 5;
  std::vector<FcgiClient> readers;
  for (int i = 0; i < kReaders; ++i) readers.push_back(webcam.request("/stream"));
  // About 5 s of reading; /state is asked while they are still being read, so that what it
  // says of the readers is not about a pause in reading.
  const auto until = Clock::now() + 5500ms;
  std::vector<std::thread> threads;
  for (FcgiClient& reader : readers) {
    threads.emplace_back([&reader, until] {
      reader.read_until(
          [](const std::string&) { return false; },
          std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()));
    });
  }
  std::this_thread::sleep_until(until - 500ms);
  const std::string state = body_of(webcam.fetch("/state"));
  for (std::thread& thread : threads) thread.join();

  for (int i = 0; i < kReaders; ++i) {
    const std::vector<unsigned long> numbers = frame_numbers(readers[i].out());
    // 10 frames a second for 5 s: the bound only catches a reader that was held back.
    EXPECT_GE(numbers.size(), 25u) << "reader " << i;
    for (std::size_t k = 1; k < numbers.size(); ++k) {
      EXPECT_EQ(numbers[k], numbers[k - 1] + 1)
          << "reader " << i << " missed or repeated frames at part " << k;
    }
  }
  EXPECT_EQ(json_field(state, "open_streams"), kReaders + 1) << state;
  const std::vector<long> skipped = frames_skipped_of_viewers(state);
  ASSERT_EQ(skipped.size(), static_cast<std::size_t>(kReaders + 1)) << state;
  EXPECT_EQ(std::count_if(skipped.begin(), skipped.end(), [](long n) { return n > 0; }), 1)
      << "the never-reading viewer, and only it, skips frames: " << state;
  EXPECT_EQ(std::count(skipped.begin(), skipped.end(), 0L), kReaders) << state;
  EXPECT_GT(*std::max_element(skipped.begin(), skipped.end()), 0) << state;
}

// --- blocking handlers --------------------------------------------------------------------

// hello_push's handler loops and waits in the worker: at most threads - max(1, threads/4)
// workers may be held so; the next such stream gets 503 with Retry-After at once, and a
// request that is not a stream still finds a worker.
TEST(BlockingHandlers, TwoThreadsServeOneBlockingStreamAndRefuseTheNextWith503) {
  HelloPushServer server(2);
  FcgiClient first = server.request(kCurl);
  ASSERT_TRUE(first.read_until(has_parts(1), 10s)) << first.out().substr(0, 200);

  // The second and the third stay connected while the next is asked.
  std::vector<FcgiClient> refused;
  for (const char* which : {"second", "third"}) {
    refused.push_back(server.request(kCurl));
    FcgiClient& next = refused.back();
    EXPECT_TRUE(next.read_to_end(5s))
        << which << ": no end within 5 s; got " << status_line(next.out());
    EXPECT_TRUE(is_503(next.out())) << which << ": " << status_line(next.out());
    EXPECT_TRUE(has_retry_after(next.out())) << which << ": " << next.out().substr(0, 300);
  }
  // Not a stream: a worker is free for it.
  FcgiClient page = server.FcgiProgram::request("/missing");
  EXPECT_TRUE(page.read_to_end(5s));
  EXPECT_EQ(page.out().rfind("Status: 404 Not Found\r\n", 0), 0u) << status_line(page.out());

  EXPECT_TRUE(first.read_until(has_parts(2), 10s)) << "the first stream stopped";
  first.close();
  std::string last;
  refused.clear();
  EXPECT_TRUE(served_again([&] { return server.request(kCurl); }, last)) << status_line(last);
}

TEST(BlockingHandlers, FourThreadsServeThreeBlockingStreamsAndRefuseTheFourth) {
  HelloPushServer server(4);
  std::vector<FcgiClient> streams;
  for (int i = 0; i < 3; ++i) streams.push_back(server.request(kCurl));
  const std::vector<char> served = read_all_until(streams, has_parts(1), 10s);
  for (std::size_t i = 0; i < streams.size(); ++i) {
    ASSERT_TRUE(served[i]) << "stream " << i << ": " << streams[i].out().substr(0, 200);
  }

  FcgiClient fourth = server.request(kCurl);
  EXPECT_TRUE(fourth.read_to_end(5s)) << "no end within 5 s; got " << status_line(fourth.out());
  EXPECT_TRUE(is_503(fourth.out())) << status_line(fourth.out());
  EXPECT_TRUE(has_retry_after(fourth.out())) << fourth.out().substr(0, 300);

  FcgiClient page = server.FcgiProgram::request("/missing");
  EXPECT_TRUE(page.read_to_end(5s));
  EXPECT_EQ(page.out().rfind("Status: 404 Not Found\r\n", 0), 0u) << status_line(page.out());
}

// --- workers are never held by streams ----------------------------------------------------

TEST(Workers, ThreeHundredEventStreamsOnTwoThreadsLeaveStateAnswering) {
  constexpr long kStreams = 300;
  FcgiProgram ps("ps.fcgi", 2);
  std::vector<FcgiClient> viewers;
  for (long i = 0; i < kStreams; ++i) viewers.push_back(ps.request("/events", "top=3"));

  // /state answers at every try, each within 5 s (a hang fails, not a slow machine), and
  // comes to count all of them.
  long counted = -1;
  std::string response;
  const auto deadline = Clock::now() + 20s;
  while (counted != kStreams && Clock::now() < deadline) {
    FcgiClient state = ps.request("/state");
    const bool answered = state.read_to_end(5s) && state.ended();
    response = state.out();
    ASSERT_TRUE(answered && response.rfind("Status: 200 OK\r\n", 0) == 0)
        << "/state did not answer within 5 s with " << kStreams << " streams open; got "
        << status_line(response);
    counted = json_field(body_of(response), "open_streams");
    if (counted != kStreams) std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(counted, kStreams) << body_of(response).substr(0, 300);

  const std::vector<char> served = read_all_until(
      viewers,
      [](const std::string& out) { return out.find("event: snapshot\n") != std::string::npos; },
      10s);
  EXPECT_EQ(std::count(served.begin(), served.end(), 1), kStreams)
      << "streams that got no first event";
}

}  // namespace
}  // namespace pushcgi::test

namespace pushcgi::test {
namespace {

// A page or snapshot that waits for its value waits in an event loop, not on a worker: with
// a camera that never delivers, ten /snapshot requests (each answered 503 after 5 s) leave
// both workers free for /state.
TEST(Workers, SnapshotsWaitingForTheirPictureHoldNoWorker) {
  FcgiProgram webcam("webcam.fcgi", 2, {"--source", "exec:/bin/sleep 60"});
  std::vector<FcgiClient> waiting;
  for (int i = 0; i < 10; ++i) waiting.push_back(webcam.request("/snapshot"));
  std::this_thread::sleep_for(300ms);  // all of them accepted and waiting
  const auto asked = Clock::now();
  const std::string state = webcam.fetch("/state");
  EXPECT_EQ(state.rfind("Status: 200 OK\r\n", 0), 0u) << status_line(state);
  EXPECT_LT(Clock::now() - asked, 2s) << "/state waited for a worker";
  for (FcgiClient& client : waiting) {
    ASSERT_TRUE(client.read_to_end(10s));
    EXPECT_TRUE(is_503(client.out())) << status_line(client.out());
    EXPECT_TRUE(has_retry_after(client.out())) << client.out();
    EXPECT_NE(client.out().find("no picture from the source yet\n"), std::string::npos);
    EXPECT_TRUE(client.ended());
  }
}

// Pages are replies, not streams: with --max-streams 1 and that one stream open, / is still
// answered.
TEST(StreamLimits, PageIsAnsweredWhileTheOnlyStreamAllowedIsOpen) {
  FcgiProgram ps("ps.fcgi", 4, {"--max-streams", "1"});
  FcgiClient stream = ps.request("/push", "interval=1");
  ASSERT_TRUE(stream.read_until(has_parts(1), 10s)) << stream.out().substr(0, 200);
  FcgiClient refused = ps.request("/push", "interval=1");
  ASSERT_TRUE(refused.read_to_end(10s));
  EXPECT_TRUE(is_503(refused.out())) << status_line(refused.out());

  FcgiClient page = ps.request("/");
  ASSERT_TRUE(page.read_to_end(10s)) << status_line(page.out());
  EXPECT_EQ(page.out().rfind("Status: 200 OK\r\n", 0), 0u) << status_line(page.out());
  EXPECT_NE(page.out().find("<!DOCTYPE html>"), std::string::npos);
  EXPECT_TRUE(stream.read_until(has_parts(2), 10s)) << "the stream stopped";
}

// Replies have a budget of their own, not the stream limit: with --max-streams 1, two
// snapshots waiting for a picture that never comes both wait (and get the source's 503
// after their timeout), where the second used to be refused at once as too many waiting.
TEST(StreamLimits, RepliesWaitingAreNotBoundByMaxStreams) {
  FcgiProgram webcam("webcam.fcgi", 2, {"--max-streams", "1", "--source", "exec:/bin/sleep 60"});
  std::vector<FcgiClient> waiting;
  for (int i = 0; i < 2; ++i) waiting.push_back(webcam.request("/snapshot"));
  for (std::size_t i = 0; i < waiting.size(); ++i) {
    EXPECT_TRUE(waiting[i].read_to_end(10s)) << "snapshot " << i;
    const std::string& out = waiting[i].out();
    EXPECT_TRUE(waiting[i].ended()) << "snapshot " << i << ": " << status_line(out);
    EXPECT_TRUE(is_503(out)) << "snapshot " << i << ": " << status_line(out);
    EXPECT_NE(out.find("no picture from the source yet\n"), std::string::npos)
        << "snapshot " << i << ": " << body_of(out);
    EXPECT_EQ(out.find("too many requests waiting"), std::string::npos)
        << "snapshot " << i << ": " << body_of(out);
  }
}

}  // namespace
}  // namespace pushcgi::test
