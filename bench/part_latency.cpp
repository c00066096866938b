// How late a part reaches a FastCGI client after the program made it, and how soon a closed
// viewer's thread serves the next request. Starts hello_push itself on a temporary socket.
//
//   build/bench/part_latency [--viewers N] [--parts N] [--cycles N]
//
// Latency: arrival time (wall clock, taken when the FCGI_STDOUT record is read) minus the
// part's X-Timestamp (taken by the program just before framing it), for every part of every
// viewer. Thread free: close a viewer that waits between parts, then time until a second
// request on a one-thread program receives its first part.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "support/fcgi_client.hpp"
#include "support/figures.hpp"
#include "support/process.hpp"

namespace {

using namespace std::chrono_literals;
using pushcgi::test::FcgiClient;
using Clock = std::chrono::steady_clock;

struct Stats {
  double median, p90, max;
};

Stats summarize(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const auto at = [&](double q) {
    return values[static_cast<std::size_t>(q * static_cast<double>(values.size() - 1))];
  };
  return {at(0.5), at(0.9), values.back()};
}

std::size_t parts(const std::string& out) {
  const std::size_t body = out.find("\r\n\r\n");
  if (body == std::string::npos) return 0;
  const std::string delimiter = "\r\n--" + pushcgi::test::boundary_of(out) + "\r\n";
  std::size_t n = 0;
  for (std::size_t at = out.find(delimiter, body + 4); at != std::string::npos;
       at = out.find(delimiter, at + 1)) {
    ++n;
  }
  return n;
}

struct Server {
  explicit Server(unsigned threads) : socket(dir.file("bench.sock")) {
    process =
        pushcgi::test::Process({pushcgi::test::bin_path("hello_push"), "--socket", socket,
                                "--threads", std::to_string(threads), "--log-level", "warning"});
  }
  FcgiClient viewer() {
    FcgiClient client;
    client.connect_unix(socket);
    client.send_request(pushcgi::test::get_params("/", "framing=length"));
    return client;
  }
  pushcgi::test::TempDir dir;
  std::string socket;
  pushcgi::test::Process process;
};

std::vector<double> latencies_ms(const FcgiClient& client) {
  std::vector<double> out;
  const std::string& text = client.out();
  const std::string key = "X-Timestamp: ";
  for (std::size_t at = text.find(key); at != std::string::npos; at = text.find(key, at + 1)) {
    const double stamp = std::stod(text.substr(at + key.size(), 17));
    const std::size_t part_end = text.find("\r\n--", text.find("\r\n\r\n", at));
    const auto* arrival = client.arrival_of(part_end);
    if (arrival == nullptr) continue;
    const double arrived = std::chrono::duration<double>(arrival->wall.time_since_epoch()).count();
    out.push_back((arrived - stamp) * 1000.0);
  }
  return out;
}

unsigned arg(int argc, char** argv, const char* name, unsigned fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return static_cast<unsigned>(std::stoul(argv[i + 1]));
  }
  return fallback;
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned viewers = arg(argc, argv, "--viewers", 10);
  const unsigned part_count = arg(argc, argv, "--parts", 10);
  const unsigned cycles = arg(argc, argv, "--cycles", 30);

  std::vector<double> latency;
  {
    Server server(viewers * 4 / 3 + 1);  // blocking streams may hold 3/4 of the workers
    std::vector<FcgiClient> clients;
    for (unsigned i = 0; i < viewers; ++i) clients.push_back(server.viewer());
    // One reader thread per viewer: a record must be read when it arrives.
    std::vector<std::thread> readers;
    for (FcgiClient& client : clients) {
      readers.emplace_back([&client, part_count] {
        client.read_until([&](const std::string& out) { return parts(out) >= part_count; },
                          std::chrono::seconds(part_count + 10));
      });
    }
    for (std::thread& reader : readers) reader.join();
    for (const FcgiClient& client : clients) {
      const auto values = latencies_ms(client);
      latency.insert(latency.end(), values.begin(), values.end());
    }
  }
  const Stats l = summarize(latency);
  std::printf(
      "part latency, %u viewers x %u parts (%zu samples): median %.2f ms, p90 %.2f ms, max %.2f "
      "ms\n",
      viewers, part_count, latency.size(), l.median, l.p90, l.max);

  std::vector<double> freed;
  {
    Server server(1);
    for (unsigned i = 0; i < cycles; ++i) {
      FcgiClient first = server.viewer();
      first.read_until([](const std::string& out) { return parts(out) >= 1; }, 10s);
      std::this_thread::sleep_for(50ms);  // the handler is now waiting between parts
      first.close();
      const auto closed = Clock::now();
      FcgiClient second = server.viewer();
      second.read_until([](const std::string& out) { return parts(out) >= 1; }, 10s);
      freed.push_back(
          std::chrono::duration<double, std::milli>(second.arrivals().back().steady - closed)
              .count());
    }
  }
  const Stats f = summarize(freed);
  std::printf(
      "viewer closed -> its thread serves the next request, %u cycles: median %.2f ms, p90 %.2f "
      "ms, max %.2f ms\n",
      cycles, f.median, f.p90, f.max);
  return 0;
}
