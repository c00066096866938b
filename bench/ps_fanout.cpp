// ps.fcgi /push fan-out: 1, 100 and 1,000 viewers at interval 1 s.
//
//   build/bench/ps_fanout [--viewers 1,100,1000] [--seconds 10]
//
// For each viewer count: starts ps.fcgi on a temporary socket, opens that many
// /push?interval=1&framing=length streams, reads them all with one epoll loop, and after a
// 3 s warm-up measures for --seconds:
//  * snapshots per period: snapshots_taken from /state over the elapsed seconds (the
//    producer works once per period, whatever the number of viewers);
//  * producer CPU per snapshot (producer_cpu_seconds / producer_runs from /state) and the
//    whole program's CPU per second (utime+stime from /proc/PID/stat);
//  * delay from a snapshot (its X-Timestamp) to the last viewer receiving it: median and
//    worst over the snapshots of the run.
// The peer, measured in the same run: the classic CGI demo runs `ps -el` for every viewer
// every period; its CPU per run (user+system of the child, median of 20) times the viewers
// is what that design costs per second at interval 1 s.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
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
};

std::string state(const std::string& socket) {
  FcgiClient client;
  client.connect_unix(socket);
  client.send_request(pushcgi::test::get_params("/state"));
  client.read_to_end(10s);
  return client.out().substr(client.out().find("\r\n\r\n") + 4);
}

void run(unsigned viewers, unsigned seconds) {
  pushcgi::test::TempDir dir;
  const std::string socket = dir.file("ps.sock");
  pushcgi::test::Process program(
      {pushcgi::test::bin_path("ps.fcgi"), "--socket", socket, "--log-level", "warning"});
  std::vector<Viewer> all(viewers);
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  for (unsigned i = 0; i < viewers; ++i) {
    all[i].client.connect_unix(socket);
    all[i].client.send_request(pushcgi::test::get_params("/push", "interval=1&framing=length"));
    fcntl(all[i].client.fd(), F_SETFL, O_NONBLOCK);
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.u32 = i;
    epoll_ctl(epoll, EPOLL_CTL_ADD, all[i].client.fd(), &event);
  }
  std::map<double, std::pair<unsigned, double>> received;  // stamp -> (viewers, last arrival)
  bool measuring = false;
  auto read_for = [&](Clock::duration how_long) {
    const auto until = Clock::now() + how_long;
    std::vector<epoll_event> events(256);
    char buffer[65536];
    while (Clock::now() < until) {
      const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 50);
      for (int e = 0; e < n; ++e) {
        Viewer& viewer = all[events[static_cast<std::size_t>(e)].data.u32];
        ssize_t got;
        while ((got = read(viewer.client.fd(), buffer, sizeof buffer)) > 0) {
          const double arrived = pushcgi::test::wall_seconds_now();
          viewer.reader.feed(std::string_view(buffer, static_cast<std::size_t>(got)),
                             [&](double stamp, std::size_t) {
                               if (!measuring) return;
                               auto& entry = received[stamp];
                               entry.first += 1;
                               entry.second = std::max(entry.second, arrived);
                             });
        }
      }
    }
  };
  read_for(3s);
  const std::string before = state(socket);
  const double cpu_before = pushcgi::test::cpu_seconds_of(program.pid());
  const auto start = Clock::now();
  measuring = true;
  read_for(std::chrono::seconds(seconds));
  measuring = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  const std::string after = state(socket);
  const double cpu = pushcgi::test::cpu_seconds_of(program.pid()) - cpu_before;
  close(epoll);

  std::vector<double> delays;
  unsigned complete = 0;
  for (const auto& [stamp, entry] : received) {
    if (entry.first == viewers) {  // snapshots every viewer received within the window
      ++complete;
      delays.push_back((entry.second - stamp) * 1000.0);
    }
  }
  std::sort(delays.begin(), delays.end());
  const long snapshots = pushcgi::test::json_field(after, "snapshots_taken") -
                         pushcgi::test::json_field(before, "snapshots_taken");
  const long runs = pushcgi::test::json_field(after, "producer_runs") -
                    pushcgi::test::json_field(before, "producer_runs");
  const double producer_cpu = pushcgi::test::json_double(after, "producer_cpu_seconds") -
                              pushcgi::test::json_double(before, "producer_cpu_seconds");
  std::printf("| %u | %.2f | %.2f ms | %.1f ms | %.2f ms | %.2f ms | %u of %zu |\n", viewers,
              static_cast<double>(snapshots) / elapsed,
              runs > 0 ? producer_cpu * 1000.0 / static_cast<double>(runs) : 0.0,
              cpu * 1000.0 / elapsed, delays.empty() ? -1.0 : delays[delays.size() / 2],
              delays.empty() ? -1.0 : delays.back(), complete, received.size());
}

// CPU seconds (user + system) of one `ps -el` run, median of 20.
double ps_el_cpu() {
  std::vector<double> runs;
  for (int i = 0; i < 20; ++i) {
    rusage before{};
    getrusage(RUSAGE_CHILDREN, &before);
    pushcgi::test::Process ps({"/usr/bin/ps", "-el"});
    ps.wait_exit(10s);
    rusage after{};
    getrusage(RUSAGE_CHILDREN, &after);
    const auto seconds = [](const timeval& t) {
      return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    runs.push_back(seconds(after.ru_utime) - seconds(before.ru_utime) + seconds(after.ru_stime) -
                   seconds(before.ru_stime));
  }
  std::sort(runs.begin(), runs.end());
  return runs[runs.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<unsigned> counts = {1, 100, 1000};
  unsigned seconds = 10;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--seconds") == 0)
      seconds = static_cast<unsigned>(std::stoul(argv[i + 1]));
    if (std::strcmp(argv[i], "--viewers") == 0) {
      counts.clear();
      std::istringstream list(argv[i + 1]);
      std::string item;
      while (std::getline(list, item, ','))
        counts.push_back(static_cast<unsigned>(std::stoul(item)));
    }
  }
  rlimit files{65536, 65536};
  setrlimit(RLIMIT_NOFILE, &files);  // 1,000 viewers need 2,000+ descriptors (both ends)
  std::printf(
      "| viewers | snapshots per second | producer CPU per snapshot | program CPU per second | "
      "delay to last viewer, median | worst | snapshots seen by all |\n");
  std::printf("| --- | --- | --- | --- | --- | --- | --- |\n");
  for (unsigned viewers : counts) run(viewers, seconds);
  const double ps_cpu = ps_el_cpu();
  std::printf(
      "\npeer: one `ps -el` run costs %.2f ms of CPU (median of 20); the classic\n"
      "ps-per-viewer CGI at interval 1 s costs that per viewer per second:\n",
      ps_cpu * 1000.0);
  for (unsigned viewers : counts) {
    std::printf("  %u viewers: %.1f ms of CPU per second\n", viewers, ps_cpu * 1000.0 * viewers);
  }
  return 0;
}
