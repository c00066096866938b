// A load client for multipart/x-mixed-replace streams over HTTP/1.0: many connections held
// by a few epoll threads, every part checked, figures as one JSON line.
//
//   build/bench/loadgen --port PORT --path /webcam/stream?framing=length --viewers N
//                       [--threads T] [--seconds S] [--warmup W] [--pids PID,PID...]
//
// Per viewer: parts received in the measuring window (frames per second, min and median).
// Per part with X-Timestamp: latency from the timestamp to its arrival (p50, p99), and the
// spread between the first and last viewer receiving it (p50, p99). Parts whose body is not
// a whole JPEG (SOI first, EOI last) when the part type is image/jpeg count as invalid.
// --pids: processes whose CPU time (utime+stime) and RSS are reported (the program, nginx).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/figures.hpp"
#include "support/http_client.hpp"
#include "support/process.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Options {
  int port = 0;
  std::string path = "/";
  unsigned viewers = 10;
  unsigned threads = 2;
  double seconds = 10;
  double warmup = 3;
  std::vector<pid_t> pids;
};

// One connection: the HTTP head, then parts split on the boundary.
struct Viewer {
  int fd = -1;
  std::string buffer;
  std::string delimiter;  // "\r\n--B"
  bool head_done = false;
  std::size_t scan = 0;  // where to look for the next delimiter
  std::uint64_t parts = 0;
  std::uint64_t invalid = 0;

  // Calls part(stamp_or_negative, valid) for each complete part.
  template <typename F>
  void feed(const char* data, std::size_t size, F part) {
    buffer.append(data, size);
    if (!head_done) {
      const std::size_t end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) return;
      const std::size_t key = buffer.find("boundary=");
      if (key == std::string::npos || key > end) return;
      const std::size_t stop = buffer.find_first_of("\r\n;", key + 9);
      std::string boundary = buffer.substr(key + 9, stop - key - 9);
      if (!boundary.empty() && boundary.front() == '"')
        boundary = boundary.substr(1, boundary.size() - 2);
      delimiter = "\r\n--" + boundary;
      buffer.erase(0, end + 2);  // keep a CRLF so that the first "--B" is a delimiter too
      head_done = true;
      scan = 0;
    }
    for (;;) {
      // buffer starts at a delimiter; the part runs to the next one.
      const void* next = memmem(buffer.data() + std::max(scan, delimiter.size()),
                                buffer.size() - std::max(scan, delimiter.size()), delimiter.data(),
                                delimiter.size());
      if (next == nullptr) {
        scan = buffer.size() > delimiter.size() ? buffer.size() - delimiter.size() : 0;
        return;
      }
      const std::size_t end = static_cast<const char*>(next) - buffer.data();
      const std::size_t head_end = buffer.find("\r\n\r\n", delimiter.size());
      if (head_end != std::string::npos && head_end < end) {
        const std::string head = buffer.substr(0, head_end);
        const std::size_t stamp_at = head.find("X-Timestamp: ");
        const double stamp =
            stamp_at == std::string::npos ? -1 : std::atof(head.c_str() + stamp_at + 13);
        const std::size_t body = head_end + 4;
        bool valid = true;
        if (head.find("image/jpeg") != std::string::npos) {
          valid = end - body >= 4 && static_cast<unsigned char>(buffer[body]) == 0xFF &&
                  static_cast<unsigned char>(buffer[body + 1]) == 0xD8 &&
                  static_cast<unsigned char>(buffer[end - 2]) == 0xFF &&
                  static_cast<unsigned char>(buffer[end - 1]) == 0xD9;
        }
        part(stamp, valid);
      }
      buffer.erase(0, end);
      scan = 0;
    }
  }
};

struct Shard {
  std::vector<Viewer*> viewers;
  std::vector<double> latencies;                         // ms
  std::map<double, std::pair<double, double>> arrivals;  // stamp -> first, last
  std::map<double, unsigned> receivers;
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string name = argv[i];
    const std::string value = argv[i + 1];
    if (name == "--port") options.port = std::stoi(value);
    if (name == "--path") options.path = value;
    if (name == "--viewers") options.viewers = static_cast<unsigned>(std::stoul(value));
    if (name == "--threads") options.threads = static_cast<unsigned>(std::stoul(value));
    if (name == "--seconds") options.seconds = std::stod(value);
    if (name == "--warmup") options.warmup = std::stod(value);
    if (name == "--pids") {
      std::istringstream list(value);
      std::string item;
      while (std::getline(list, item, ',')) options.pids.push_back(std::stoi(item));
    }
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  rlimit files{65536, 65536};
  setrlimit(RLIMIT_NOFILE, &files);
  std::vector<Viewer> viewers(options.viewers);
  unsigned connected = 0;
  for (Viewer& viewer : viewers) {
    viewer.fd = pushcgi::test::connect_loopback(options.port);
    if (viewer.fd < 0) continue;
    const std::string request = "GET " + options.path + " HTTP/1.0\r\nHost: 127.0.0.1\r\n" +
                                "User-Agent: pushcgi-loadgen/1.0\r\n\r\n";
    if (send(viewer.fd, request.data(), request.size(), MSG_NOSIGNAL) > 0) ++connected;
    fcntl(viewer.fd, F_SETFL, O_NONBLOCK);
  }
  std::vector<Shard> shards(options.threads);
  for (std::size_t i = 0; i < viewers.size(); ++i) {
    if (viewers[i].fd >= 0) shards[i % options.threads].viewers.push_back(&viewers[i]);
  }
  std::atomic<bool> measuring{false};
  std::atomic<bool> stop{false};
  std::vector<std::thread> threads;
  for (Shard& shard : shards) {
    threads.emplace_back([&shard, &measuring, &stop] {
      const int epoll = epoll_create1(EPOLL_CLOEXEC);
      for (std::size_t i = 0; i < shard.viewers.size(); ++i) {
        epoll_event event{};
        event.events = EPOLLIN;
        event.data.u64 = i;
        epoll_ctl(epoll, EPOLL_CTL_ADD, shard.viewers[i]->fd, &event);
      }
      std::vector<epoll_event> events(512);
      std::vector<char> buffer(1 << 18);
      while (!stop) {
        const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 50);
        for (int e = 0; e < n; ++e) {
          Viewer& viewer = *shard.viewers[events[static_cast<std::size_t>(e)].data.u64];
          ssize_t got;
          while ((got = read(viewer.fd, buffer.data(), buffer.size())) > 0) {
            const double arrived = pushcgi::test::wall_seconds_now();
            viewer.feed(buffer.data(), static_cast<std::size_t>(got),
                        [&](double stamp, bool valid) {
                          if (!measuring) return;
                          ++viewer.parts;
                          if (!valid) ++viewer.invalid;
                          if (stamp < 0) return;
                          shard.latencies.push_back((arrived - stamp) * 1000.0);
                          auto [it, fresh] = shard.arrivals.try_emplace(stamp, arrived, arrived);
                          if (!fresh) {
                            it->second.first = std::min(it->second.first, arrived);
                            it->second.second = std::max(it->second.second, arrived);
                          }
                          ++shard.receivers[stamp];
                        });
          }
        }
      }
      close(epoll);
    });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup));
  std::vector<double> cpu_before;
  for (pid_t pid : options.pids) cpu_before.push_back(pushcgi::test::cpu_seconds_of(pid));
  const double client_before = pushcgi::test::self_cpu_seconds();
  const auto start = Clock::now();
  measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  measuring = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> cpu;
  std::vector<long> rss;
  for (std::size_t i = 0; i < options.pids.size(); ++i) {
    cpu.push_back(pushcgi::test::cpu_seconds_of(options.pids[i]) - cpu_before[i]);
    rss.push_back(pushcgi::test::rss_kib(options.pids[i]));
  }
  const double client_cpu = pushcgi::test::self_cpu_seconds() - client_before;
  stop = true;
  for (std::thread& thread : threads) thread.join();

  std::vector<double> fps;
  std::uint64_t parts = 0;
  std::uint64_t invalid = 0;
  for (const Viewer& viewer : viewers) {
    fps.push_back(static_cast<double>(viewer.parts) / elapsed);
    parts += viewer.parts;
    invalid += viewer.invalid;
    if (viewer.fd >= 0) close(viewer.fd);
  }
  std::vector<double> latencies;
  std::map<double, std::pair<double, double>> arrivals;
  std::map<double, unsigned> receivers;
  for (const Shard& shard : shards) {
    latencies.insert(latencies.end(), shard.latencies.begin(), shard.latencies.end());
    for (const auto& [stamp, times] : shard.arrivals) {
      auto [it, fresh] = arrivals.try_emplace(stamp, times);
      if (!fresh) {
        it->second.first = std::min(it->second.first, times.first);
        it->second.second = std::max(it->second.second, times.second);
      }
    }
    for (const auto& [stamp, count] : shard.receivers) receivers[stamp] += count;
  }
  std::vector<double> spreads;
  for (const auto& [stamp, times] : arrivals) {
    if (receivers[stamp] == connected) spreads.push_back((times.second - times.first) * 1000.0);
  }
  std::printf(
      "{\"viewers\":%u,\"connected\":%u,\"seconds\":%.2f,\"fps_min\":%.2f,\"fps_median\":%.2f,"
      "\"parts\":%llu,\"invalid\":%llu,\"latency_p50_ms\":%.2f,\"latency_p99_ms\":%.2f,"
      "\"spread_p50_ms\":%.2f,\"spread_p99_ms\":%.2f,\"client_cpu_percent\":%.1f",
      options.viewers, connected, elapsed, pushcgi::test::quantile(fps, 0),
      pushcgi::test::quantile(fps, 0.5), static_cast<unsigned long long>(parts),
      static_cast<unsigned long long>(invalid), pushcgi::test::quantile(latencies, 0.5),
      pushcgi::test::quantile(latencies, 0.99), pushcgi::test::quantile(spreads, 0.5),
      pushcgi::test::quantile(spreads, 0.99), client_cpu * 100.0 / elapsed);
  for (std::size_t i = 0; i < options.pids.size(); ++i) {
    std::printf(",\"pid_%d\":{\"cpu_seconds\":%.3f,\"cpu_us_per_part\":%.1f,\"rss_kib\":%ld}",
                options.pids[i], cpu[i],
                parts > 0 ? cpu[i] * 1e6 / static_cast<double>(parts) : -1.0, rss[i]);
  }
  std::printf("}\n");
  return 0;
}
