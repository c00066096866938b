// A load client for push streams: many connections held by a few epoll threads, every part
// checked, the figures as one JSON line. Used by bench/run.py; runs alone too:
//
//   build/bench/loadgen --port PORT --path PATH --viewers N [--threads T] [--seconds S]
//                       [--warmup W] [--pids PID,PID...] [--accept TYPE]
//                       [--mode stream|poll|disconnect] [--fps F] [--stall K]
//                       [--state-path PATH] [--rounds R]
//
// stream (default): N HTTP/1.0 multipart streams. Per viewer the parts received in the
//   measuring window (frames per second, min and median). Per part, its time stamp: the
//   X-Timestamp part header, or else "t=SECONDS" in a JPEG comment segment right after SOI
//   (how bench/feeder marks the frames it gives the peers). Latency is arrival minus stamp;
//   the spread is between the first and last viewer receiving the same stamp. A part whose
//   type is image/jpeg and whose body is not a whole JPEG (SOI first, EOI last) is invalid.
//   --stall K: the first K viewers stop reading for the whole measuring window, then read
//   again; reported: the readers' frame rate during the stall, and for the stalled viewers
//   the age of the first part completed after the resume and how long until a part at most
//   2 s old arrived.
// poll: N HTTP/1.1 keep-alive connections each asking for PATH F times a second (a static
//   file: the cost floor of moving the same bytes through the web server).
// disconnect: R rounds; each opens N streams, waits until STATE-PATH counts them in
//   "open_streams", lets them idle for W seconds, closes all at once, and polls STATE-PATH
//   until it counts none. Reported: times from the close until half, 99 % and all were gone.
// --pids: processes whose CPU time (utime+stime), RSS and threads are reported.
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <queue>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/figures.hpp"
#include "support/http_client.hpp"

namespace {

using Clock = std::chrono::steady_clock;

enum class Mode { stream, poll, disconnect };

struct Options {
  int port = 0;
  std::string path = "/";
  std::string accept;
  unsigned viewers = 10;
  unsigned threads = 2;
  double seconds = 10;
  double warmup = 3;
  Mode mode = Mode::stream;
  double fps = 15;
  unsigned stall = 0;
  std::string state_path = "/state";
  unsigned rounds = 1;
  std::vector<pid_t> pids;
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr, "loadgen: %s (see the comment at the top of bench/loadgen.cpp)\n",
               problem.c_str());
  std::exit(2);
}

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; i += 2) {
    const std::string name = argv[i];
    if (i + 1 >= argc) usage(name + " needs a value");
    const std::string value = argv[i + 1];
    try {
      if (name == "--port") {
        options.port = std::stoi(value);
      } else if (name == "--path") {
        options.path = value;
      } else if (name == "--accept") {
        options.accept = value;
      } else if (name == "--viewers") {
        options.viewers = static_cast<unsigned>(std::stoul(value));
      } else if (name == "--threads") {
        options.threads = std::max(1u, static_cast<unsigned>(std::stoul(value)));
      } else if (name == "--seconds") {
        options.seconds = std::stod(value);
      } else if (name == "--warmup") {
        options.warmup = std::stod(value);
      } else if (name == "--fps") {
        options.fps = std::stod(value);
      } else if (name == "--stall") {
        options.stall = static_cast<unsigned>(std::stoul(value));
      } else if (name == "--state-path") {
        options.state_path = value;
      } else if (name == "--rounds") {
        options.rounds = static_cast<unsigned>(std::stoul(value));
      } else if (name == "--mode") {
        if (value == "stream") {
          options.mode = Mode::stream;
        } else if (value == "poll") {
          options.mode = Mode::poll;
        } else if (value == "disconnect") {
          options.mode = Mode::disconnect;
        } else {
          usage("unknown mode " + value);
        }
      } else if (name == "--pids") {
        std::istringstream list(value);
        std::string item;
        while (std::getline(list, item, ',')) options.pids.push_back(std::stoi(item));
      } else {
        usage("unknown option " + name);
      }
    } catch (const std::logic_error&) {
      usage("bad value for " + name + ": " + value);
    }
  }
  if (options.port <= 0) usage("--port is required");
  if (options.stall >= options.viewers && options.stall > 0) usage("--stall must leave readers");
  return options;
}

bool is_whole_jpeg(const std::string& buffer, std::size_t begin, std::size_t end) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(buffer[at]); };
  return end - begin >= 4 && byte(begin) == 0xFF && byte(begin + 1) == 0xD8 &&
         byte(end - 2) == 0xFF && byte(end - 1) == 0xD9;
}

// "t=SECONDS" from a comment segment (FF FE) right after the JPEG's SOI; -1 if none.
double comment_stamp(const std::string& buffer, std::size_t begin, std::size_t end) {
  const auto byte = [&](std::size_t at) { return static_cast<unsigned char>(buffer[at]); };
  if (end - begin < 8 || byte(begin + 2) != 0xFF || byte(begin + 3) != 0xFE) return -1;
  const std::size_t length = static_cast<std::size_t>(byte(begin + 4)) << 8 | byte(begin + 5);
  if (length < 2 || begin + 4 + length > end) return -1;
  const std::string text = buffer.substr(begin + 6, length - 2);
  const std::size_t at = text.find("t=");
  return at == std::string::npos ? -1 : std::atof(text.c_str() + at + 2);
}

double header_stamp(const std::string& head) {
  const std::size_t at = head.find("X-Timestamp: ");
  return at == std::string::npos ? -1 : std::atof(head.c_str() + at + 13);
}

std::string request_for(const Options& options, const char* version) {
  std::string request = "GET " + options.path + " " + version +
                        "\r\nHost: 127.0.0.1\r\nUser-Agent: pushcgi-loadgen/1.0\r\n";
  if (!options.accept.empty()) request += "Accept: " + options.accept + "\r\n";
  return request + "\r\n";
}

// One connection. Streams: the HTTP head, then parts split on the boundary. Polls: one
// response after another, each with Content-Length.
struct Viewer {
  int fd = -1;
  bool stalled = false;
  std::string buffer;
  std::string delimiter;  // "\r\n--B"
  bool head_done = false;
  bool not_multipart = false;  // its bytes are ignored
  std::size_t scan = 0;        // where to look for the next delimiter
  std::uint64_t parts = 0;
  std::uint64_t invalid = 0;
  double asked_at = 0;  // poll: when the outstanding request was sent
  // stall: the first part after the resume and the first fresh one
  double resumed_first_age = -1;
  double resumed_fresh_after = -1;
  unsigned resumed_stale_parts = 0;

  // Calls part(stamp_or_negative, valid) for each complete part of a stream.
  template <typename F>
  void feed_stream(const char* data, std::size_t size, F part) {
    if (not_multipart) return;
    buffer.append(data, size);
    if (!head_done) {
      const std::size_t end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) return;
      const std::size_t key = buffer.find("boundary=");
      if (key == std::string::npos || key > end) {
        not_multipart = true;
        buffer.clear();
        return;
      }
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
      const std::size_t from = std::max(scan, delimiter.size());
      if (buffer.size() < from) return;
      const void* next =
          memmem(buffer.data() + from, buffer.size() - from, delimiter.data(), delimiter.size());
      if (next == nullptr) {
        scan = buffer.size() > delimiter.size() ? buffer.size() - delimiter.size() : 0;
        return;
      }
      const std::size_t end =
          static_cast<std::size_t>(static_cast<const char*>(next) - buffer.data());
      const std::size_t head_end = buffer.find("\r\n\r\n", delimiter.size());
      if (head_end != std::string::npos && head_end < end) {
        const std::string head = buffer.substr(0, head_end);
        const std::size_t body = head_end + 4;
        double stamp = header_stamp(head);
        bool valid = true;
        if (head.find("image/jpeg") != std::string::npos) {
          valid = is_whole_jpeg(buffer, body, end);
          if (stamp < 0 && valid) stamp = comment_stamp(buffer, body, end);
        }
        part(stamp, valid);
      }
      buffer.erase(0, end);
      scan = 0;
    }
  }

  // Calls part(valid) for each complete response; returns false if one was not a 200.
  template <typename F>
  bool feed_poll(const char* data, std::size_t size, F part) {
    buffer.append(data, size);
    for (;;) {
      const std::size_t end = buffer.find("\r\n\r\n");
      if (end == std::string::npos) return true;
      if (buffer.compare(0, 12, "HTTP/1.1 200") != 0) return false;
      const std::size_t key = buffer.find("Content-Length: ");
      if (key == std::string::npos || key > end) return false;
      const std::size_t length = std::strtoul(buffer.c_str() + key + 16, nullptr, 10);
      if (buffer.size() < end + 4 + length) return true;
      part(is_whole_jpeg(buffer, end + 4, end + 4 + length));
      buffer.erase(0, end + 4 + length);
    }
  }
};

struct Shard {
  std::vector<Viewer*> viewers;
  bool stalled = false;                                  // holds the stalled viewers
  std::vector<double> latencies;                         // ms
  std::map<double, std::pair<double, double>> arrivals;  // stamp -> first, last
  std::map<double, unsigned> receivers;
};

struct Shared {
  std::atomic<bool> measuring{false};
  std::atomic<bool> stalling{false};
  std::atomic<bool> stop{false};
  double resumed_at = 0;  // wall seconds; written before stalling goes false
};

int open_viewer(const Options& options, const std::string& request) {
  const int fd = pushcgi::test::connect_loopback(options.port);
  if (fd < 0) return -1;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) <= 0) {
    close(fd);
    return -1;
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  return fd;
}

void watch(int epoll, int fd, std::size_t index) {
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = index;
  epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event);
}

void run_shard(Shard& shard, Shared& shared, const Options& options, const std::string& request) {
  const int epoll = epoll_create1(EPOLL_CLOEXEC);
  for (std::size_t i = 0; i < shard.viewers.size(); ++i) watch(epoll, shard.viewers[i]->fd, i);
  // poll: when each viewer asks next, spread over the first period
  using Due = std::pair<double, std::size_t>;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due;
  const double period = 1.0 / options.fps;
  if (options.mode == Mode::poll) {
    const double now = pushcgi::test::wall_seconds_now();
    for (std::size_t i = 0; i < shard.viewers.size(); ++i) {
      due.emplace(now + period * static_cast<double>(i) / static_cast<double>(shard.viewers.size()),
                  i);
    }
  }
  std::vector<epoll_event> events(512);
  std::vector<char> buffer(1 << 18);
  bool was_stalling = false;
  while (!shared.stop) {
    if (shard.stalled && shared.stalling) {
      was_stalling = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      continue;
    }
    int timeout = 50;
    if (!due.empty()) {
      const double wait = due.top().first - pushcgi::test::wall_seconds_now();
      timeout = wait <= 0 ? 0 : std::min(50, static_cast<int>(wait * 1000) + 1);
    }
    const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), timeout);
    for (int e = 0; e < n; ++e) {
      const std::size_t index = events[static_cast<std::size_t>(e)].data.u64;
      Viewer& viewer = *shard.viewers[index];
      ssize_t got;
      while ((got = read(viewer.fd, buffer.data(), buffer.size())) > 0) {
        const double arrived = pushcgi::test::wall_seconds_now();
        if (options.mode == Mode::poll) {
          const bool ok =
              viewer.feed_poll(buffer.data(), static_cast<std::size_t>(got), [&](bool valid) {
                if (!shared.measuring) return;
                ++viewer.parts;
                if (!valid) ++viewer.invalid;
                shard.latencies.push_back((arrived - viewer.asked_at) * 1000.0);
              });
          if (!ok) ++viewer.invalid;
          continue;
        }
        viewer.feed_stream(buffer.data(), static_cast<std::size_t>(got),
                           [&](double stamp, bool valid) {
                             if (was_stalling && stamp >= 0) {
                               const double age = arrived - stamp;
                               if (viewer.resumed_first_age < 0) viewer.resumed_first_age = age;
                               if (viewer.resumed_fresh_after < 0) {
                                 if (age <= 2.0) {
                                   viewer.resumed_fresh_after = arrived - shared.resumed_at;
                                 } else {
                                   ++viewer.resumed_stale_parts;
                                 }
                               }
                             }
                             if (!shared.measuring || viewer.stalled) return;
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
      if (got == 0 && options.mode == Mode::poll) {  // the server ended the keep-alive
        epoll_ctl(epoll, EPOLL_CTL_DEL, viewer.fd, nullptr);
        close(viewer.fd);
        viewer.buffer.clear();
        viewer.fd = pushcgi::test::connect_loopback(options.port);
        if (viewer.fd >= 0) {
          fcntl(viewer.fd, F_SETFL, O_NONBLOCK);
          watch(epoll, viewer.fd, index);
        }
      }
    }
    const double now = pushcgi::test::wall_seconds_now();
    while (!due.empty() && due.top().first <= now) {
      const auto [when, index] = due.top();
      due.pop();
      Viewer& viewer = *shard.viewers[index];
      if (viewer.fd >= 0) {
        viewer.asked_at = now;
        send(viewer.fd, request.data(), request.size(), MSG_NOSIGNAL);
      }
      due.emplace(std::max(when + period, now), index);  // a late viewer does not catch up
    }
  }
  close(epoll);
}

struct ProcessFigures {
  double cpu = 0;
  long rss = 0;
  long threads = 0;
};

void print_pids(const Options& options, const std::vector<ProcessFigures>& figures,
                std::uint64_t parts) {
  for (std::size_t i = 0; i < options.pids.size(); ++i) {
    std::printf(
        ",\"pid_%d\":{\"cpu_seconds\":%.3f,\"cpu_us_per_part\":%.1f,\"rss_kib\":%ld,"
        "\"threads\":%ld}",
        options.pids[i], figures[i].cpu,
        parts > 0 ? figures[i].cpu * 1e6 / static_cast<double>(parts) : -1.0, figures[i].rss,
        figures[i].threads);
  }
}

int run_streams(const Options& options) {
  const std::string request =
      request_for(options, options.mode == Mode::poll ? "HTTP/1.1" : "HTTP/1.0");
  std::vector<Viewer> viewers(options.viewers);
  unsigned connected = 0;
  for (Viewer& viewer : viewers) {
    // poll: the first request goes out on the viewer's schedule
    viewer.fd = options.mode == Mode::poll ? pushcgi::test::connect_loopback(options.port)
                                           : open_viewer(options, request);
    if (viewer.fd < 0) continue;
    if (options.mode == Mode::poll) fcntl(viewer.fd, F_SETFL, O_NONBLOCK);
    ++connected;
  }
  for (unsigned i = 0; i < options.stall && i < viewers.size(); ++i) viewers[i].stalled = true;
  // Stalled viewers get their own thread, so that readers never wait behind them.
  std::vector<Shard> shards(options.threads + (options.stall > 0 ? 1 : 0));
  if (options.stall > 0) shards.back().stalled = true;
  std::size_t next = 0;
  for (Viewer& viewer : viewers) {
    if (viewer.fd < 0) continue;
    if (viewer.stalled) {
      shards.back().viewers.push_back(&viewer);
    } else {
      shards[next++ % options.threads].viewers.push_back(&viewer);
    }
  }
  Shared shared;
  std::vector<std::thread> threads;
  for (Shard& shard : shards) {
    threads.emplace_back(
        [&shard, &shared, &options, &request] { run_shard(shard, shared, options, request); });
  }
  std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup));
  std::vector<double> cpu_before;
  for (pid_t pid : options.pids) cpu_before.push_back(pushcgi::test::cpu_seconds_of(pid));
  const double client_before = pushcgi::test::self_cpu_seconds();
  const auto start = Clock::now();
  shared.stalling = options.stall > 0;
  shared.measuring = true;
  std::this_thread::sleep_for(std::chrono::duration<double>(options.seconds));
  shared.measuring = false;
  const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<ProcessFigures> figures;
  for (std::size_t i = 0; i < options.pids.size(); ++i) {
    figures.push_back({pushcgi::test::cpu_seconds_of(options.pids[i]) - cpu_before[i],
                       pushcgi::test::rss_kib(options.pids[i]),
                       pushcgi::test::threads_of(options.pids[i])});
  }
  const double client_cpu = pushcgi::test::self_cpu_seconds() - client_before;
  if (options.stall > 0) {
    shared.resumed_at = pushcgi::test::wall_seconds_now();
    shared.stalling = false;
    std::this_thread::sleep_for(std::chrono::seconds(3));  // time to catch up
  }
  shared.stop = true;
  for (std::thread& thread : threads) thread.join();

  std::vector<double> fps;
  std::vector<double> first_ages;
  std::vector<double> fresh_after;
  std::vector<double> stale_parts;
  std::uint64_t parts = 0;
  std::uint64_t invalid = 0;
  unsigned readers = 0;
  for (Viewer& viewer : viewers) {
    if (viewer.fd >= 0) close(viewer.fd);
    if (viewer.stalled) {
      first_ages.push_back(viewer.resumed_first_age);
      fresh_after.push_back(viewer.resumed_fresh_after < 0 ? 99 : viewer.resumed_fresh_after);
      stale_parts.push_back(viewer.resumed_stale_parts);
      continue;
    }
    fps.push_back(static_cast<double>(viewer.parts) / elapsed);
    parts += viewer.parts;
    invalid += viewer.invalid;
    if (viewer.fd >= 0) ++readers;
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
  // The spread counts only the parts every reader received.
  std::vector<double> spreads;
  for (const auto& [stamp, times] : arrivals) {
    if (receivers[stamp] == readers) spreads.push_back((times.second - times.first) * 1000.0);
  }
  using pushcgi::test::quantile;
  std::printf(
      "{\"mode\":\"%s\",\"viewers\":%u,\"connected\":%u,\"seconds\":%.2f,\"fps_min\":%.2f,"
      "\"fps_median\":%.2f,\"parts\":%llu,\"invalid\":%llu,\"latency_p50_ms\":%.2f,"
      "\"latency_p99_ms\":%.2f,\"spread_p50_ms\":%.2f,\"spread_p99_ms\":%.2f,"
      "\"spread_frames\":%zu,\"client_cpu_percent\":%.1f",
      options.mode == Mode::poll ? "poll" : "stream", options.viewers, connected, elapsed,
      quantile(fps, 0), quantile(fps, 0.5), static_cast<unsigned long long>(parts),
      static_cast<unsigned long long>(invalid), quantile(latencies, 0.5), quantile(latencies, 0.99),
      quantile(spreads, 0.5), quantile(spreads, 0.99), spreads.size(),
      client_cpu * 100.0 / elapsed);
  if (options.stall > 0) {
    std::printf(
        ",\"stalled\":%u,\"resumed_first_age_s_p50\":%.3f,\"resumed_first_age_s_max\":%.3f,"
        "\"resumed_fresh_after_s_p50\":%.3f,\"resumed_fresh_after_s_max\":%.3f,"
        "\"resumed_stale_parts_max\":%.0f",
        options.stall, quantile(first_ages, 0.5), quantile(first_ages, 1),
        quantile(fresh_after, 0.5), quantile(fresh_after, 1), quantile(stale_parts, 1));
  }
  print_pids(options, figures, parts);
  std::printf("}\n");
  return 0;
}

// open_streams from the program's /state through the web server; -1 if it did not answer.
long open_streams(const Options& options) {
  const std::string response =
      pushcgi::test::http_get(options.port, options.state_path, std::chrono::seconds(5));
  return pushcgi::test::json_field(response, "open_streams");
}

// Polls until open_streams is at most `count` or the deadline; false at the deadline.
bool wait_for_streams(const Options& options, long count, double seconds,
                      const std::function<void(long)>& seen = nullptr) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    const long open = open_streams(options);
    if (seen && open >= 0) seen(open);
    if (open >= 0 && open <= count) return true;
  }
  return false;
}

int run_disconnect(const Options& options) {
  const std::string request = request_for(options, "HTTP/1.0");
  std::vector<double> half;
  std::vector<double> most;
  std::vector<double> all;
  unsigned failed_rounds = 0;
  const long baseline = std::max(0L, open_streams(options));
  for (unsigned round = 0; round < options.rounds; ++round) {
    std::vector<int> fds;
    for (unsigned i = 0; i < options.viewers; ++i) {
      const int fd = open_viewer(options, request);
      if (fd >= 0) fds.push_back(fd);
    }
    const long n = static_cast<long>(fds.size());
    // All counted by the program (a stream registers when its handler runs).
    bool counted = false;
    const auto deadline = Clock::now() + std::chrono::seconds(20);
    while (!counted && Clock::now() < deadline) counted = open_streams(options) >= baseline + n;
    std::this_thread::sleep_for(std::chrono::duration<double>(options.warmup));
    const auto closed_at = Clock::now();
    for (int fd : fds) close(fd);
    double t_half = -1;
    double t_most = -1;
    const long most_left = n / 100;  // 99 % gone
    const bool gone = wait_for_streams(options, baseline, 10, [&](long open) {
      const double t = std::chrono::duration<double, std::milli>(Clock::now() - closed_at).count();
      if (t_half < 0 && open - baseline <= n / 2) t_half = t;
      if (t_most < 0 && open - baseline <= most_left) t_most = t;
    });
    const double t_all =
        std::chrono::duration<double, std::milli>(Clock::now() - closed_at).count();
    if (!counted || !gone) {
      ++failed_rounds;
      continue;
    }
    half.push_back(t_half);
    most.push_back(t_most);
    all.push_back(t_all);
  }
  using pushcgi::test::quantile;
  std::printf(
      "{\"mode\":\"disconnect\",\"viewers\":%u,\"rounds\":%u,\"failed_rounds\":%u,"
      "\"half_gone_ms_p50\":%.1f,\"most_gone_ms_p50\":%.1f,\"all_gone_ms_p50\":%.1f,"
      "\"all_gone_ms_p99\":%.1f,\"all_gone_ms_max\":%.1f}\n",
      options.viewers, options.rounds, failed_rounds, quantile(half, 0.5), quantile(most, 0.5),
      quantile(all, 0.5), quantile(all, 0.99), quantile(all, 1));
  return failed_rounds == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  rlimit files{65536, 65536};
  setrlimit(RLIMIT_NOFILE, &files);
  return options.mode == Mode::disconnect ? run_disconnect(options) : run_streams(options);
}
