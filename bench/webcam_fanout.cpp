// webcam.fcgi fan-out and stall: 10, 100 and 500 viewers of a 15 fps 640x480 testcard.
//
//   build/bench/webcam_fanout [--viewers 10,100,500] [--seconds 10] [--stall 30] [--threads 2]
//
// Fan-out, per viewer count: starts webcam.fcgi on a temporary socket, opens that many
// /stream?framing=length streams, reads them with --threads epoll loops, and after a 3 s
// warm-up measures for --seconds: frames per second per viewer (min, median); the spread
// between the first and the last viewer receiving the same frame (by X-Timestamp; p50,
// p99); the program's CPU time (utime+stime) per delivered frame; its RSS at the end; and
// the load client's own CPU.
// Stall: one viewer stops reading for --stall seconds while another reads on; then it
// resumes, and the age (now - X-Timestamp) of the frames it gets first is reported, with
// the bytes that were waiting in its socket and the reader's frame rate during the stall.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/fcgi_client.hpp"
#include "support/figures.hpp"
#include "support/part_reader.hpp"
#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;
using pushcgi::test::FcgiClient;
using Clock = std::chrono::steady_clock;

struct Viewer {
  FcgiClient client;
  pushcgi::test::PartReader reader;
  std::size_t counted = 0;  // parts within the measuring window
};

struct Program {
  Program(unsigned threads) : socket(dir.file("webcam.sock")) {
    process = pushcgi::test::Process({pushcgi::test::bin_path("webcam.fcgi"), "--socket", socket,
                                      "--threads", std::to_string(threads), "--fps", "15", "--size",
                                      "640x480", "--log-level", "warning"});
  }
  void open(Viewer& viewer) const {
    viewer.client.connect_unix(socket);
    viewer.client.send_request(pushcgi::test::get_params("/stream", "framing=length"));
    fcntl(viewer.client.fd(), F_SETFL, O_NONBLOCK);
  }
  pushcgi::test::TempDir dir;
  std::string socket;
  pushcgi::test::Process process;
};

// Reads its share of the viewers until `stop`; records arrival times per frame.
struct ReaderThread {
  std::vector<Viewer*> viewers;
  std::map<double, std::pair<double, double>> arrivals;  // stamp -> first, last arrival
  std::map<double, unsigned> receivers;

  void run(const std::atomic<bool>& stop, const std::atomic<bool>& measuring) {
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    for (std::size_t i = 0; i < viewers.size(); ++i) {
      epoll_event event{};
      event.events = EPOLLIN;
      event.data.u64 = i;
      epoll_ctl(epoll, EPOLL_CTL_ADD, viewers[i]->client.fd(), &event);
    }
    std::vector<epoll_event> events(256);
    std::vector<char> buffer(1 << 18);
    while (!stop) {
      const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 50);
      for (int e = 0; e < n; ++e) {
        Viewer& viewer = *viewers[events[static_cast<std::size_t>(e)].data.u64];
        ssize_t got;
        while ((got = read(viewer.client.fd(), buffer.data(), buffer.size())) > 0) {
          const double arrived = pushcgi::test::wall_seconds_now();
          viewer.reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)),
                             [&](double stamp, std::size_t) {
                               if (!measuring) return;
                               ++viewer.counted;
                               auto [it, fresh] = arrivals.try_emplace(stamp, arrived, arrived);
                               if (!fresh) {
                                 it->second.first = std::min(it->second.first, arrived);
                                 it->second.second = std::max(it->second.second, arrived);
                               }
                               ++receivers[stamp];
                             });
        }
      }
    }
    close(epoll);
  }
};

void fanout(unsigned viewer_count, unsigned seconds, unsigned threads) {
  Program program(viewer_count + 16);
  std::vector<Viewer> viewers(viewer_count);
  for (Viewer& viewer : viewers) program.open(viewer);
  std::vector<ReaderThread> readers(threads);
  for (std::size_t i = 0; i < viewers.size(); ++i)
    readers[i % threads].viewers.push_back(&viewers[i]);
  std::atomic<bool> stop{false};
  std::atomic<bool> measuring{false};
  std::vector<std::thread> running;
  for (ReaderThread& reader : readers) running.emplace_back([&] { reader.run(stop, measuring); });

  std::this_thread::sleep_for(3s);
  const double cpu_before = pushcgi::test::cpu_seconds_of(program.process.pid());
  const double client_before = pushcgi::test::self_cpu_seconds();
  const auto start = Clock::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  measuring = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const double cpu = pushcgi::test::cpu_seconds_of(program.process.pid()) - cpu_before;
  const double client_cpu = pushcgi::test::self_cpu_seconds() - client_before;
  const long rss = pushcgi::test::rss_kib(program.process.pid());
  stop = true;
  for (std::thread& thread : running) thread.join();

  std::vector<double> fps;
  std::size_t delivered = 0;
  for (const Viewer& viewer : viewers) {
    fps.push_back(static_cast<double>(viewer.counted) / elapsed);
    delivered += viewer.counted;
  }
  // Spread: frames that every viewer received, first to last arrival over all readers.
  std::map<double, std::pair<double, double>> merged;
  std::map<double, unsigned> receivers;
  for (const ReaderThread& reader : readers) {
    for (const auto& [stamp, times] : reader.arrivals) {
      auto [it, fresh] = merged.try_emplace(stamp, times);
      if (!fresh) {
        it->second.first = std::min(it->second.first, times.first);
        it->second.second = std::max(it->second.second, times.second);
      }
    }
    for (const auto& [stamp, count] : reader.receivers) receivers[stamp] += count;
  }
  std::vector<double> spreads;
  for (const auto& [stamp, times] : merged) {
    if (receivers[stamp] == viewer_count) spreads.push_back((times.second - times.first) * 1000.0);
  }
  std::printf("| %u | %.2f | %.2f | %.2f ms | %.2f ms | %.1f µs | %ld MiB | %.0f %% |\n",
              viewer_count, pushcgi::test::quantile(fps, 0), pushcgi::test::quantile(fps, 0.5),
              pushcgi::test::quantile(spreads, 0.5), pushcgi::test::quantile(spreads, 0.99),
              delivered > 0 ? cpu * 1e6 / static_cast<double>(delivered) : -1.0, rss / 1024,
              client_cpu * 100.0 / elapsed);
}

void stall(unsigned seconds) {
  Program program(8);
  Viewer reader;
  Viewer staller;
  program.open(reader);
  program.open(staller);
  // The staller reads for 2 s, then stops reading; the reader reads all along.
  std::atomic<bool> stalled{false};
  std::atomic<bool> stop{false};
  std::size_t reader_frames_in_stall = 0;
  std::thread reading([&] {
    std::vector<char> buffer(1 << 18);
    while (!stop) {
      ssize_t got;
      while ((got = read(reader.client.fd(), buffer.data(), buffer.size())) > 0) {
        reader.reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)),
                           [&](double, std::size_t) {
                             if (stalled) ++reader_frames_in_stall;
                           });
      }
      std::this_thread::sleep_for(2ms);
    }
  });
  std::vector<char> buffer(1 << 18);
  const auto warm = Clock::now() + 2s;
  while (Clock::now() < warm) {
    ssize_t got;
    while ((got = read(staller.client.fd(), buffer.data(), buffer.size())) > 0) {
      staller.reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)),
                          [](double, std::size_t) {});
    }
    std::this_thread::sleep_for(2ms);
  }
  stalled = true;
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  stalled = false;
  int waiting = 0;
  ioctl(staller.client.fd(), FIONREAD, &waiting);
  const double resumed = pushcgi::test::wall_seconds_now();
  std::vector<double> ages;  // of the frames completed after the resume, in order
  const auto until = Clock::now() + 3s;
  while (Clock::now() < until && ages.size() < 10) {
    ssize_t got;
    while ((got = read(staller.client.fd(), buffer.data(), buffer.size())) > 0) {
      staller.reader.feed(std::string_view(buffer.data(), static_cast<std::size_t>(got)),
                          [&](double stamp, std::size_t) {
                            ages.push_back(pushcgi::test::wall_seconds_now() - stamp);
                          });
    }
    std::this_thread::sleep_for(1ms);
  }
  stop = true;
  reading.join();
  (void)resumed;
  std::printf(
      "stall of %u s: %d bytes were waiting in the stalled viewer's socket; the reader got "
      "%.2f frames/s during the stall\n",
      seconds, waiting, static_cast<double>(reader_frames_in_stall) / seconds);
  std::printf("ages of the first frames after the resume:");
  for (double age : ages) std::printf(" %.3f s", age);
  std::printf("\n");
}

std::vector<unsigned> parse_list(const char* text) {
  std::vector<unsigned> out;
  std::istringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) out.push_back(static_cast<unsigned>(std::stoul(item)));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> counts = {10, 100, 500};
  unsigned seconds = 10;
  unsigned stall_seconds = 30;
  unsigned threads = 2;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--viewers") == 0) counts = parse_list(argv[i + 1]);
    if (std::strcmp(argv[i], "--seconds") == 0)
      seconds = static_cast<unsigned>(std::stoul(argv[i + 1]));
    if (std::strcmp(argv[i], "--stall") == 0)
      stall_seconds = static_cast<unsigned>(std::stoul(argv[i + 1]));
    if (std::strcmp(argv[i], "--threads") == 0)
      threads = static_cast<unsigned>(std::stoul(argv[i + 1]));
  }
  rlimit files{65536, 65536};
  setrlimit(RLIMIT_NOFILE, &files);
  std::printf(
      "| viewers | frames/s per viewer, min | median | spread first-last, p50 | p99 | "
      "program CPU per delivered frame | program RSS | load client CPU |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
  for (unsigned count : counts) fanout(count, seconds, threads);
  if (stall_seconds > 0) stall(stall_seconds);
  return 0;
}
