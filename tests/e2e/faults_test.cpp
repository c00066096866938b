// Faults behind a real web server, with the shipped configurations: viewers that come and go
// by the thousand, one that never reads, a program killed in the middle of its streams.
// `make soak` runs the cycles again with PUSHCGI_CYCLES=10000.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

#include "stack.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Built with ASan or TSan (make asan, make tsan), the programs' RSS says nothing about
// leaks: ASan keeps freed memory in quarantine (up to 256 MB) and both add shadow memory.
// There the descriptors and threads are still checked, and LeakSanitizer looks for leaks.
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool kRssMeansMemoryHeld = false;
#else
constexpr bool kRssMeansMemoryHeld = true;
#endif

unsigned cycles_to_run() {
  const char* text = std::getenv("PUSHCGI_CYCLES");
  return text != nullptr ? static_cast<unsigned>(std::strtoul(text, nullptr, 10)) : 500;
}

struct Usage {
  long fds = 0;
  long threads = 0;
  long rss_kib = 0;
};

Usage usage_of(pid_t pid) {
  return {open_fds(pid), threads_of(pid), rss_kib(pid)};
}

std::string describe(const char* name, const Usage& before, const Usage& after) {
  char text[200];
  std::snprintf(text, sizeof text, "%s: fds %ld -> %ld, threads %ld -> %ld, RSS %ld -> %ld KiB",
                name, before.fds, after.fds, before.threads, after.threads, before.rss_kib,
                after.rss_kib);
  return text;
}

// Waits until pid's descriptors and threads are back to baseline's (a stopping source
// thread, a closing connection take a moment); its usage then.
Usage settled_usage(pid_t pid, const Usage& baseline) {
  const auto deadline = Clock::now() + 10s;
  Usage now = usage_of(pid);
  while ((now.fds != baseline.fds || now.threads != baseline.threads) && Clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
    now = usage_of(pid);
  }
  return now;
}

bool has_a_part(const std::string& response) {
  return parts_done(response) >= 1;
}

// Viewers arrive and leave, one after another: every fourth before any answer, every fourth
// right after the head, the rest after their first whole part; half of them on each program.
TEST(Faults, ConnectCloseCyclesLeaveNothingBehind) {
  const unsigned cycles = cycles_to_run();
  // --linger 0: the source stops and starts with every webcam viewer, so that is cycled too.
  // glibc's malloc is pinned down so that RSS shows what the programs hold (both measured in
  // RELIABILITY.md):
  // - One arena. With glibc's default of up to 8 per core, free memory kept in the arenas the
  //   threads happened to use makes RSS wander by megabytes, up and down.
  // - A fixed mmap threshold of 128 KiB. glibc's default raises it to the size of the first
  //   large block freed, so the testcard's buffers (900 KB of pixels, the encoder's output)
  //   move onto the heap, and the heap grows once by about 700 KiB at a moment that differs
  //   from run to run, sometimes between the baseline and the end (CI saw +680 KiB). Fixed,
  //   every block over 128 KiB is mapped and unmapped on its own, and a leaked one still shows.
  Stack stack("nginx", "--linger 0",
              {"MALLOC_ARENA_MAX=1", "GLIBC_TUNABLES=glibc.malloc.mmap_threshold=131072"});
  ASSERT_TRUE(stack.ready()) << stack.log();
  const pid_t ps = stack.program_pid("ps");
  const pid_t webcam = stack.program_pid("webcam");
  ASSERT_GT(ps, 0);
  ASSERT_GT(webcam, 0);

  unsigned failed = 0;
  const auto cycle = [&](unsigned k) {
    HttpClient viewer;
    const bool on_webcam = k % 2 == 0;
    if (!viewer.get(stack.port(), on_webcam ? "/webcam/stream" : "/ps/push?interval=5&top=3")) {
      ++failed;
      return;
    }
    switch (k / 2 % 4) {
      case 0:
        break;  // gone before the answer
      case 1:
        if (!viewer.read_until([](const std::string& r) { return !boundary_of(r).empty(); }, 10s))
          ++failed;
        break;
      default:
        if (!viewer.read_until(has_a_part, 10s)) ++failed;
        break;
    }
    viewer.close();
  };
  // Warm-up: every worker thread has served every kind of cycle, so their stacks have been
  // touched as deep as they go (stacks of up to 256 KiB each are what makes RSS wander by a
  // few hundred KiB after a short warm-up).
  for (unsigned k = 0; k < 1000; ++k) cycle(k);
  ASSERT_TRUE(stack.wait_open_streams("/ps", 0, 10s));
  ASSERT_TRUE(stack.wait_open_streams("/webcam", 0, 10s));
  std::this_thread::sleep_for(500ms);
  const Usage ps_before = usage_of(ps);
  const Usage webcam_before = usage_of(webcam);

  const auto start = Clock::now();
  for (unsigned k = 0; k < cycles; ++k) cycle(k);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  EXPECT_EQ(failed, 0u) << "viewers that got no answer";
  ASSERT_TRUE(stack.wait_open_streams("/ps", 0, 10s)) << stack.log();
  ASSERT_TRUE(stack.wait_open_streams("/webcam", 0, 10s)) << stack.log();
  const Usage ps_after = settled_usage(ps, ps_before);
  const Usage webcam_after = settled_usage(webcam, webcam_before);

  std::printf("cycles: %u in %.1f s (%.0f per second)\n  %s\n  %s\n", cycles, seconds,
              cycles / seconds, describe("ps.fcgi", ps_before, ps_after).c_str(),
              describe("webcam.fcgi", webcam_before, webcam_after).c_str());
  for (const auto& [name, before, after] :
       {std::make_tuple("ps.fcgi", ps_before, ps_after),
        std::make_tuple("webcam.fcgi", webcam_before, webcam_after)}) {
    EXPECT_EQ(after.fds, before.fds) << name;
    EXPECT_EQ(after.threads, before.threads) << name;
    // Measured from -52 to +48 KiB over 500 cycles (ten runs) and +104 KiB at most over
    // 30,000; 512 KiB is a leak of 52 bytes per cycle at `make soak`'s 10,000, or 1 KiB at
    // make test's 500.
    if (kRssMeansMemoryHeld) {
      EXPECT_LT(after.rss_kib - before.rss_kib, 512) << describe(name, before, after);
    }
  }
}

// The most frames_skipped among the viewers in a webcam /state.
long most_skipped(const std::string& state) {
  long most = 0;
  for (std::size_t at = state.find("\"frames_skipped\":"); at != std::string::npos;
       at = state.find("\"frames_skipped\":", at + 1)) {
    most = std::max(most, std::atol(state.c_str() + at + 17));
  }
  return most;
}

TEST(Faults, ViewerThatNeverReadsIsSkippedNotQueued) {
  Stack stack("nginx");
  ASSERT_TRUE(stack.ready()) << stack.log();
  const pid_t webcam = stack.program_pid("webcam");
  const int stalled = request_without_reading(stack.port(), "/webcam/stream");
  ASSERT_GE(stalled, 0);
  ASSERT_TRUE(stack.wait_open_streams("/webcam", 1, 10s));
  std::this_thread::sleep_for(2s);  // its buffers (and nginx's) are full by now
  const long rss_before = rss_kib(webcam);

  // Three viewers that read, for 6 s (90 frames of 40 KB at 15 frames/s).
  constexpr int kReaders = 3;
  std::vector<HttpClient> readers(kReaders);
  std::vector<std::thread> threads;
  for (HttpClient& reader : readers) {
    ASSERT_TRUE(reader.get(stack.port(), "/webcam/stream"));
    threads.emplace_back(
        [&reader] { reader.read_until([](const std::string&) { return false; }, 6s); });
  }
  for (std::thread& thread : threads) thread.join();
  const long rss_after = rss_kib(webcam);
  const std::string state = stack.get("/webcam/state");

  for (const HttpClient& reader : readers) {
    std::size_t parts = 0;
    for (std::size_t at = reader.response().find("X-Timestamp: "); at != std::string::npos;
         at = reader.response().find("X-Timestamp: ", at + 1)) {
      ++parts;
    }
    EXPECT_GE(parts, 45u) << "a reader was slowed down (a gross bound: half the rate)";
    std::printf("reader beside a never-reading viewer: %zu parts in 6 s\n", parts);
  }
  std::printf("webcam.fcgi RSS %ld -> %ld KiB; most frames skipped by one viewer: %ld\n",
              rss_before, rss_after, most_skipped(state));
  for (HttpClient& reader : readers) reader.close();
  // What it would have queued in 8 s is 4.8 MB; skipping keeps the program flat.
  if (kRssMeansMemoryHeld) {
    EXPECT_LT(rss_after - rss_before, 2048) << rss_before << " -> " << rss_after << " KiB";
  }
  EXPECT_GT(most_skipped(state), 30) << state;
  close(stalled);
  EXPECT_TRUE(stack.wait_open_streams("/webcam", 0, 10s)) << stack.get("/webcam/state");
}

// SIGKILL in the middle of a stream: the web server answers for the dead program with an
// error, the other program goes on, and the program restarted on the same socket is served
// again without touching the web server. Then SIGTERM: its streams end with their close
// delimiter within a second.
class KilledProgram : public ::testing::TestWithParam<std::string> {};

TEST_P(KilledProgram, WebServerAnswers502AndARestartServesAgain) {
  Stack stack(GetParam());
  ASSERT_TRUE(stack.ready()) << stack.log();
  const pid_t webcam = stack.program_pid("webcam");
  ASSERT_GT(webcam, 0);
  HttpClient viewer;
  ASSERT_TRUE(viewer.get(stack.port(), "/webcam/stream"));
  ASSERT_TRUE(viewer.read_until(has_a_part, 10s));

  ASSERT_EQ(kill(webcam, SIGKILL), 0);
  EXPECT_TRUE(viewer.read_to_end(10s)) << "the viewer's connection stayed open";
  const std::string dead = stack.get("/webcam/state");
  // nginx: 502 Bad Gateway. Apache's mod_proxy_fcgi: 503 Service Unavailable (it cannot
  // connect to the backend, and says so with 503).
  const std::string expected = GetParam() == "nginx" ? " 502 " : " 503 ";
  EXPECT_EQ(dead.substr(8, 5), expected) << dead.substr(0, 200);
  EXPECT_EQ(stack.open_streams("/ps"), 0) << "the other program stopped answering";

  std::vector<std::string> argv = {bin_path("webcam.fcgi"), "--socket",
                                   stack.run_file("webcam.sock")};
  if (GetParam() == "apache-proxy" && getuid() == 0) {  // as tools/dev-stack does
    argv.insert(argv.end(), {"--socket-mode", "666"});
  }
  SpawnOptions options;
  options.stderr_path = stack.run_file("webcam-restarted.log");
  Process restarted(argv, options);
  ASSERT_TRUE(stack.wait_open_streams("/webcam", 0, 10s))
      << stack.log() << read_file(stack.run_file("webcam-restarted.log"));

  HttpClient again;
  ASSERT_TRUE(again.get(stack.port(), "/webcam/stream"));
  ASSERT_TRUE(again.read_until(has_a_part, 10s)) << again.response().substr(0, 300);
  EXPECT_EQ(again.status(), 200);

  ASSERT_TRUE(restarted.signal(SIGTERM));
  const auto signalled = Clock::now();
  ASSERT_TRUE(again.read_to_end(5s));
  const auto ended = Clock::now() - signalled;
  const std::string close_delimiter = "\r\n--" + boundary_of(again.response()) + "--\r\n";
  const std::string& response = again.response();
  ASSERT_GT(response.size(), close_delimiter.size());
  EXPECT_EQ(response.substr(response.size() - close_delimiter.size()), close_delimiter);
  EXPECT_LT(ended, 1s);
  EXPECT_EQ(restarted.wait_exit(2000ms), 0);
}

INSTANTIATE_TEST_SUITE_P(Servers, KilledProgram, ::testing::Values("nginx", "apache-proxy"),
                         [](const auto& param_info) { return server_test_name(param_info.param); });

}  // namespace
}  // namespace pushcgi::test
