// A load client for push streams: many connections held by a few epoll threads, every part
// checked, the figures as one JSON line. Used by bench/run.py; runs alone too:
//
//   build/bench/loadgen --port PORT --path PATH --viewers N [--threads T] [--seconds S]
//                       [--warmup W] [--pids PID,PID...] [--accept TYPE]
//                       [--mode stream|poll|disconnect] [--fps F] [--stall K]
//                       [--state-path PATH] [--rounds R] [--stamp header|comment]
//   build/bench/loadgen --port PORT --mode hold --mix PATH=N[,PATH=N...] [--threads T]
//                       [--serve-wait S] [--seconds S] [--probe PATH] [--probe-hz H]
//                       [--probe-timeout S] [--never-read K] [--never-read-path PATH]
//                       [--then none|close|sigterm] [--signal-pid PID] [--end-wait S]
//                       [--state-path PATH] [--pids PID,PID...]
//
// stream (default): N HTTP/1.0 multipart streams. Per viewer the parts received in the
//   measuring window (frames per second, min and median). Per part, its time stamp: the
//   X-Timestamp part header, or else "t=SECONDS" in a JPEG comment segment right after SOI
//   (how bench/feeder marks the frames it gives the peers); with --stamp comment only the
//   comment (a relay's X-Timestamp is when the relay got the frame, the comment when the
//   frame was made, and the relay passes it through). Latency is arrival minus stamp;
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
// hold: many idle streams at once (the issue-12 scenarios). Opens N viewers of each PATH of
//   --mix (interleaved; HTTP/1.0), spread over T epoll threads, and waits at most
//   --serve-wait seconds until each is served: its head (status counted) and a first
//   complete part (multipart: the delimiter after it) or event (text/event-stream: a blank
//   line). Then, for --seconds, a probe asks --probe (e.g. /ps/state) --probe-hz times a
//   second, one request at a time, each given --probe-timeout seconds (a timeout or a
//   status other than 200 counts as failed; its time still enters the quantiles). With
//   --never-read K, K more connections then ask --never-read-path with a 4 KB receive
//   buffer and never read, and the probe runs another --seconds. Then --then:
//   close: every connection is closed at once; STATE-PATH is polled until open_streams is
//   back where it was before the viewers came (at most --end-wait seconds).
//   sigterm: SIGTERM to --signal-pid; until it has exited (no process or a zombie) and
//   until every viewer's connection has ended (at most --end-wait seconds); counted: the
//   multipart viewers whose stream carried the close delimiter "--BOUNDARY--", and the
//   event-stream viewers whose stream ended after a complete event or comment line.
//   Every wait is bounded; the figures are one JSON line.
// --pids: processes whose CPU time (utime+stime), RSS and threads are reported.
#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
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

enum class Mode { stream, poll, disconnect, hold };

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
  bool stamp_from_comment = false;
  std::vector<pid_t> pids;
  // hold
  std::vector<std::pair<std::string, unsigned>> mix;
  double serve_wait = 30;
  std::string probe;
  double probe_hz = 5;
  double probe_timeout = 2;
  unsigned never_read = 0;
  std::string never_read_path;
  std::string then = "none";
  pid_t signal_pid = 0;
  double end_wait = 10;
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
        } else if (value == "hold") {
          options.mode = Mode::hold;
        } else {
          usage("unknown mode " + value);
        }
      } else if (name == "--mix") {
        std::istringstream list(value);
        std::string item;
        while (std::getline(list, item, ',')) {
          const std::size_t at = item.rfind('=');  // PATH may hold '=' itself
          if (at == std::string::npos) usage("--mix wants PATH=N");
          options.mix.emplace_back(item.substr(0, at),
                                   static_cast<unsigned>(std::stoul(item.substr(at + 1))));
        }
      } else if (name == "--serve-wait") {
        options.serve_wait = std::stod(value);
      } else if (name == "--probe") {
        options.probe = value;
      } else if (name == "--probe-hz") {
        options.probe_hz = std::stod(value);
      } else if (name == "--probe-timeout") {
        options.probe_timeout = std::stod(value);
      } else if (name == "--never-read") {
        options.never_read = static_cast<unsigned>(std::stoul(value));
      } else if (name == "--never-read-path") {
        options.never_read_path = value;
      } else if (name == "--then") {
        if (value != "none" && value != "close" && value != "sigterm")
          usage("unknown --then " + value);
        options.then = value;
      } else if (name == "--signal-pid") {
        options.signal_pid = std::stoi(value);
      } else if (name == "--end-wait") {
        options.end_wait = std::stod(value);
      } else if (name == "--stamp") {
        if (value != "header" && value != "comment") usage("--stamp is header or comment");
        options.stamp_from_comment = value == "comment";
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
  if (options.mode == Mode::hold && options.mix.empty()) usage("hold needs --mix");
  if (options.then == "sigterm" && options.signal_pid <= 0)
    usage("--then sigterm needs --signal-pid");
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
  bool stamp_from_comment = false;
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
        double stamp = stamp_from_comment ? -1 : header_stamp(head);
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
    viewer.stamp_from_comment = options.stamp_from_comment;
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
  unsigned with_parts = 0;  // viewers that received at least one part in the window
  for (Viewer& viewer : viewers) {
    if (viewer.fd >= 0) close(viewer.fd);
    if (viewer.stalled) {
      first_ages.push_back(viewer.resumed_first_age);
      fresh_after.push_back(viewer.resumed_fresh_after < 0 ? 99 : viewer.resumed_fresh_after);
      stale_parts.push_back(viewer.resumed_stale_parts);
      continue;
    }
    fps.push_back(static_cast<double>(viewer.parts) / elapsed);
    if (viewer.parts > 0) ++with_parts;
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
      "\"latency_p95_ms\":%.2f,\"latency_p99_ms\":%.2f,\"spread_p50_ms\":%.2f,\"spread_p99_ms\":%."
      "2f,"
      "\"spread_frames\":%zu,\"client_cpu_percent\":%.1f,\"with_parts\":%u",
      options.mode == Mode::poll ? "poll" : "stream", options.viewers, connected, elapsed,
      quantile(fps, 0), quantile(fps, 0.5), static_cast<unsigned long long>(parts),
      static_cast<unsigned long long>(invalid), quantile(latencies, 0.5), quantile(latencies, 0.95),
      quantile(latencies, 0.99), quantile(spreads, 0.5), quantile(spreads, 0.99), spreads.size(),
      client_cpu * 100.0 / elapsed, with_parts);
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

// ---- hold --------------------------------------------------------------------------------

// Counts the occurrences of a pattern in a byte stream read in pieces: keeps the last
// pattern.size() - 1 bytes of one piece for the next.
struct Counter {
  std::string pattern;
  std::string tail;
  unsigned found = 0;

  void feed(const char* data, std::size_t size) {
    if (pattern.empty()) return;
    std::string window = tail;
    window.append(data, size);
    std::size_t at = 0;
    while ((at = window.find(pattern, at)) != std::string::npos) {
      ++found;
      at += pattern.size();
    }
    const std::size_t keep = std::min(window.size(), pattern.size() - 1);
    tail.assign(window, window.size() - keep, keep);
  }
};

// One idle viewer: its head, then only counters (a few hundred bytes each, however long
// the stream runs).
struct HoldViewer {
  int fd = -1;
  std::size_t path = 0;  // index into --mix
  std::string head;      // until the head is complete
  bool head_done = false;
  int status = 0;
  bool event_stream = false;
  Counter parts;        // multipart: "\r\n--B"; event stream: "\n\n"
  Counter close_delim;  // multipart: "\r\n--B--"
  bool served = false;
  bool ended = false;
  double served_at = 0;  // seconds after the first connect
  double ended_at = 0;   // wall seconds
  std::string last;      // the last bytes (up to 256): did an event stream end cleanly?

  void keep_last(const char* data, std::size_t size) {
    last.append(data, size);
    if (last.size() > 256) last.erase(0, last.size() - 256);
  }
  // An event stream ends cleanly after a whole event ("\n\n") or a whole comment line
  // (": text\n"), not inside either.
  bool clean_event_end() const {
    if (last.size() < 2 || last.back() != '\n') return false;
    if (last.compare(last.size() - 2, 2, "\n\n") == 0) return true;
    const std::size_t line = last.rfind('\n', last.size() - 2);
    return line != std::string::npos && last[line + 1] == ':';
  }
};

struct HoldShared {
  std::atomic<bool> stop{false};
  std::atomic<unsigned> answered{0};
  std::atomic<unsigned> served{0};
  std::atomic<unsigned> ended{0};
  Clock::time_point start;
};

void hold_feed(HoldViewer& viewer, const char* data, std::size_t size, HoldShared& shared) {
  if (!viewer.head_done) {
    viewer.head.append(data, size);
    const std::size_t end = viewer.head.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (viewer.head.size() > 65536) viewer.head_done = true;  // not HTTP; ignore the rest
      return;
    }
    viewer.head_done = true;
    ++shared.answered;
    viewer.status = std::atoi(viewer.head.c_str() + viewer.head.find(' ') + 1);
    const std::string head = viewer.head.substr(0, end);
    viewer.event_stream = head.find("text/event-stream") != std::string::npos;
    const std::size_t key = head.find("boundary=");
    if (viewer.event_stream) {
      viewer.parts.pattern = "\n\n";
    } else if (key != std::string::npos) {
      const std::size_t stop = head.find_first_of("\r\n;", key + 9);
      std::string boundary = head.substr(key + 9, stop - key - 9);
      if (!boundary.empty() && boundary.front() == '"')
        boundary = boundary.substr(1, boundary.size() - 2);
      viewer.parts.pattern = "\r\n--" + boundary;
      viewer.close_delim.pattern = "\r\n--" + boundary + "--";
    }
    // the body so far, with the head's last CRLF so that a first "--B" is a delimiter too
    const std::string body = viewer.head.substr(end + 2);
    viewer.head.clear();
    viewer.head.shrink_to_fit();
    if (viewer.event_stream) {
      viewer.parts.feed(body.data() + 2, body.size() - 2);
    } else {
      viewer.parts.feed(body.data(), body.size());
      viewer.close_delim.feed(body.data(), body.size());
    }
    viewer.keep_last(body.data(), body.size());
  } else {
    viewer.parts.feed(data, size);
    viewer.close_delim.feed(data, size);
    viewer.keep_last(data, size);
  }
  if (!viewer.served && viewer.status == 200 &&
      viewer.parts.found >= (viewer.event_stream ? 1u : 2u)) {
    viewer.served = true;
    viewer.served_at = std::chrono::duration<double>(Clock::now() - shared.start).count();
    ++shared.served;
  }
}

void hold_thread(int epoll, std::vector<HoldViewer>& viewers, HoldShared& shared) {
  std::vector<epoll_event> events(512);
  std::vector<char> buffer(1 << 16);
  while (!shared.stop) {
    const int n = epoll_wait(epoll, events.data(), static_cast<int>(events.size()), 20);
    for (int e = 0; e < n; ++e) {
      HoldViewer& viewer = viewers[events[static_cast<std::size_t>(e)].data.u64];
      if (viewer.ended) continue;
      ssize_t got;
      while ((got = read(viewer.fd, buffer.data(), buffer.size())) > 0) {
        hold_feed(viewer, buffer.data(), static_cast<std::size_t>(got), shared);
      }
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) {
        viewer.ended = true;
        viewer.ended_at = pushcgi::test::wall_seconds_now();
        epoll_ctl(epoll, EPOLL_CTL_DEL, viewer.fd, nullptr);
        ++shared.ended;
      }
    }
  }
}

struct ProbeFigures {
  std::vector<double> ms;
  unsigned failed = 0;
  std::map<int, unsigned> statuses;  // 0: no answer within the timeout
};

// One request; its time in ms, and its status (0 if none came), 200 only with open_streams
// in the body.
std::pair<double, int> probe_once(const Options& options) {
  const auto start = Clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  const int fd = pushcgi::test::connect_loopback(options.port);
  if (fd < 0) return {elapsed(), 0};
  timeval limit{};
  limit.tv_sec = static_cast<time_t>(options.probe_timeout);
  limit.tv_usec =
      static_cast<suseconds_t>((options.probe_timeout - static_cast<double>(limit.tv_sec)) * 1e6);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  const std::string request = "GET " + options.probe + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  std::string response;
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) > 0) {
    char buffer[8192];
    ssize_t got;
    while (elapsed() < options.probe_timeout * 1000 &&
           (got = read(fd, buffer, sizeof buffer)) > 0) {
      response.append(buffer, static_cast<std::size_t>(got));
    }
  }
  close(fd);
  int status = response.compare(0, 5, "HTTP/") == 0 && response.size() > 12
                   ? std::atoi(response.c_str() + 9)
                   : 0;
  if (status == 200 && response.find("open_streams") == std::string::npos) status = 0;
  return {elapsed(), status};
}

// Asks the probe path probe_hz times a second (one at a time) for `seconds`.
ProbeFigures run_probe(const Options& options, double seconds) {
  ProbeFigures figures;
  if (options.probe.empty()) return figures;
  const auto end = Clock::now() + std::chrono::duration<double>(seconds);
  const auto period = std::chrono::duration<double>(1.0 / options.probe_hz);
  auto next = Clock::now();
  while (Clock::now() < end) {
    const auto [ms, status] = probe_once(options);
    figures.ms.push_back(ms);
    ++figures.statuses[status];
    if (status != 200) ++figures.failed;
    next += std::chrono::duration_cast<Clock::duration>(period);
    if (next > Clock::now()) std::this_thread::sleep_until(next);
  }
  return figures;
}

void print_probe(const char* name, const ProbeFigures& figures) {
  using pushcgi::test::quantile;
  std::printf(
      ",\"%s\":{\"asked\":%zu,\"failed\":%u,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"max_ms\":%.1f,"
      "\"status\":{",
      name, figures.ms.size(), figures.failed, quantile(figures.ms, 0.5),
      quantile(figures.ms, 0.99), quantile(figures.ms, 1));
  bool first = true;
  for (const auto& [status, count] : figures.statuses) {
    std::printf("%s\"%d\":%u", first ? "" : ",", status, count);
    first = false;
  }
  std::printf("}}");
}

// Wall seconds when pid has exited (gone, or a zombie), polled every millisecond; -1 at
// the deadline.
double wait_exit(pid_t pid, double seconds) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(seconds);
  while (Clock::now() < deadline) {
    if (!pushcgi::test::is_alive(pid)) return pushcgi::test::wall_seconds_now();
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return -1;
}

int run_hold(const Options& options) {
  unsigned total = 0;
  for (const auto& [path, n] : options.mix) total += n;
  std::vector<std::string> requests;
  for (const auto& [path, n] : options.mix) {
    requests.push_back("GET " + path +
                       " HTTP/1.0\r\nHost: 127.0.0.1\r\nUser-Agent: pushcgi-loadgen/1.0\r\n\r\n");
  }
  // Interleaved: one of each path in turn while any is left.
  std::vector<HoldViewer> viewers(total);
  {
    std::vector<unsigned> left;
    for (const auto& entry : options.mix) left.push_back(entry.second);
    std::size_t v = 0;
    while (v < total) {
      for (std::size_t p = 0; p < left.size(); ++p) {
        if (left[p] == 0) continue;
        --left[p];
        viewers[v++].path = p;
      }
    }
  }
  const long baseline = options.state_path.empty() || options.then != "close"
                            ? 0
                            : std::max(0L, open_streams(options));
  HoldShared shared;
  shared.start = Clock::now();
  std::vector<int> epolls;
  std::vector<std::thread> threads;
  for (unsigned t = 0; t < options.threads; ++t) epolls.push_back(epoll_create1(EPOLL_CLOEXEC));
  for (unsigned t = 0; t < options.threads; ++t) {
    threads.emplace_back([&, t] { hold_thread(epolls[t], viewers, shared); });
  }
  unsigned connected = 0;
  const auto connect_deadline = Clock::now() + std::chrono::duration<double>(options.serve_wait);
  for (std::size_t i = 0; i < viewers.size() && Clock::now() < connect_deadline; ++i) {
    HoldViewer& viewer = viewers[i];
    const int fd = pushcgi::test::connect_loopback(options.port);
    if (fd < 0) continue;
    const std::string& request = requests[viewer.path];
    if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) <= 0) {
      close(fd);
      continue;
    }
    fcntl(fd, F_SETFL, O_NONBLOCK);
    viewer.fd = fd;
    ++connected;
    epoll_event event{};
    event.events = EPOLLIN | EPOLLRDHUP;
    event.data.u64 = i;
    epoll_ctl(epolls[i % options.threads], EPOLL_CTL_ADD, fd, &event);
  }
  const double connect_seconds = std::chrono::duration<double>(Clock::now() - shared.start).count();
  // Until every connected viewer is served or the wait is over (an answer other than a
  // stream ends the wait for that viewer too).
  while (Clock::now() < connect_deadline && shared.served < connected) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const double served_seconds = std::chrono::duration<double>(Clock::now() - shared.start).count();
  const unsigned served_then = shared.served;
  std::vector<ProcessFigures> figures;
  for (pid_t pid : options.pids) {
    figures.push_back({0, pushcgi::test::rss_kib(pid), pushcgi::test::threads_of(pid)});
  }
  const ProbeFigures probe_streams = run_probe(options, options.seconds);
  std::vector<int> never;
  ProbeFigures probe_never;
  if (options.never_read > 0) {
    for (unsigned i = 0; i < options.never_read; ++i) {
      const int fd = pushcgi::test::request_without_reading(options.port, options.never_read_path);
      if (fd >= 0) never.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::seconds(2));
    probe_never = run_probe(options, options.seconds);
  }

  // The end.
  double end_ms = -1;
  double exit_ms = -1;
  long left_open = -1;
  double half_ms = -1;
  if (options.then == "close") {
    shared.stop = true;
    for (std::thread& thread : threads) thread.join();
    threads.clear();
    const auto closed_at = Clock::now();
    for (HoldViewer& viewer : viewers) {
      if (viewer.fd >= 0) close(viewer.fd);
      viewer.fd = -1;
    }
    for (int fd : never) close(fd);
    never.clear();
    const long n = static_cast<long>(connected + options.never_read);
    const auto deadline = closed_at + std::chrono::duration<double>(options.end_wait);
    while (Clock::now() < deadline) {
      const long open = open_streams(options);
      const double t = std::chrono::duration<double, std::milli>(Clock::now() - closed_at).count();
      if (open >= 0) left_open = open - baseline;
      if (open >= 0 && half_ms < 0 && open - baseline <= n / 2) half_ms = t;
      if (open >= 0 && open <= baseline) {
        end_ms = t;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
  } else if (options.then == "sigterm") {
    const double sent = pushcgi::test::wall_seconds_now();
    kill(options.signal_pid, SIGTERM);
    const double exited = wait_exit(options.signal_pid, options.end_wait);
    if (exited > 0) exit_ms = (exited - sent) * 1000;
    const auto deadline = Clock::now() + std::chrono::duration<double>(options.end_wait);
    while (Clock::now() < deadline && shared.ended < connected) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    if (shared.ended >= connected) {
      double last = sent;
      for (const HoldViewer& viewer : viewers) last = std::max(last, viewer.ended_at);
      end_ms = (last - sent) * 1000;
    }
    shared.stop = true;
  }
  shared.stop = true;
  for (std::thread& thread : threads) thread.join();
  for (HoldViewer& viewer : viewers) {
    if (viewer.fd >= 0) close(viewer.fd);
  }
  for (int fd : never) close(fd);
  for (int epoll : epolls) close(epoll);

  // Per path: counts by answer.
  std::printf(
      "{\"mode\":\"hold\",\"viewers\":%u,\"connected\":%u,\"connect_seconds\":%.2f,"
      "\"served\":%u,\"served_seconds\":%.2f,\"paths\":[",
      total, connected, connect_seconds, served_then, served_seconds);
  for (std::size_t p = 0; p < options.mix.size(); ++p) {
    std::map<int, unsigned> statuses;
    unsigned served = 0, no_answer = 0, ended = 0, close_delimiter = 0, clean_event_end = 0,
             multipart = 0, events = 0;
    std::vector<double> served_at;
    for (const HoldViewer& viewer : viewers) {
      if (viewer.path != p) continue;
      if (!viewer.head_done) {
        ++no_answer;
      } else {
        ++statuses[viewer.status];
      }
      if (viewer.served) {
        ++served;
        served_at.push_back(viewer.served_at);
        if (viewer.event_stream) {
          ++events;
          if (viewer.ended && viewer.clean_event_end()) ++clean_event_end;
        } else {
          ++multipart;
          if (viewer.close_delim.found > 0) ++close_delimiter;
        }
      }
      if (viewer.ended) ++ended;
    }
    std::printf(
        "%s{\"path\":\"%s\",\"viewers\":%u,\"served\":%u,\"no_answer\":%u,\"ended\":%u,"
        "\"served_at_p50_s\":%.2f,\"served_at_max_s\":%.2f,\"multipart_served\":%u,"
        "\"close_delimiter\":%u,\"events_served\":%u,\"clean_event_end\":%u,\"status\":{",
        p == 0 ? "" : ",", options.mix[p].first.c_str(), options.mix[p].second, served, no_answer,
        ended, pushcgi::test::quantile(served_at, 0.5), pushcgi::test::quantile(served_at, 1),
        multipart, close_delimiter, events, clean_event_end);
    bool first = true;
    for (const auto& [status, count] : statuses) {
      std::printf("%s\"%d\":%u", first ? "" : ",", status, count);
      first = false;
    }
    std::printf("}}");
  }
  std::printf("]");
  print_probe("probe_streams", probe_streams);
  if (options.never_read > 0) {
    std::printf(",\"never_read\":%u,\"never_read_connected\":%zu", options.never_read,
                static_cast<std::size_t>(options.never_read));
    print_probe("probe_never_read", probe_never);
  }
  std::printf(
      ",\"then\":\"%s\",\"end_ms\":%.1f,\"half_ms\":%.1f,\"left_open\":%ld,\"exit_ms\":%.1f",
      options.then.c_str(), end_ms, half_ms, left_open, exit_ms);
  for (std::size_t i = 0; i < options.pids.size(); ++i) {
    std::printf(",\"pid_%d\":{\"rss_kib\":%ld,\"threads\":%ld}", options.pids[i], figures[i].rss,
                figures[i].threads);
  }
  std::printf("}\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  // 10,000 viewers and more: as many descriptors as allowed (as root: 65536 whatever the
  // hard limit).
  rlimit files{65536, 65536};
  if (setrlimit(RLIMIT_NOFILE, &files) != 0 && getrlimit(RLIMIT_NOFILE, &files) == 0) {
    files.rlim_cur = files.rlim_max;
    setrlimit(RLIMIT_NOFILE, &files);
  }
  if (options.mode == Mode::hold) return run_hold(options);
  return options.mode == Mode::disconnect ? run_disconnect(options) : run_streams(options);
}
