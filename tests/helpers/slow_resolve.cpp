// An http:// source whose host takes 5 s to resolve, stopped 300 ms after it started:
//
//   slow_resolve
//
// prints "stopped in N ms while resolving" (or "... before resolving": then this getaddrinfo
// was not the one libcurl called, and the stop proved nothing). This program's own getaddrinfo()
// stands in for a DNS server that does not answer: libcurl (a shared library) calls it, from its
// resolver thread, instead of the C library's. Kept out of the test programs so that nothing else
// sees it.
#include <netdb.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "pushcgi/sources/source.hpp"

static std::atomic<bool> resolving{false};

extern "C" int getaddrinfo(const char* /*node*/, const char* /*service*/, const addrinfo* /*hints*/,
                           addrinfo** /*result*/) {
  resolving = true;
  std::this_thread::sleep_for(std::chrono::seconds(5));
  return EAI_AGAIN;
}

int main() {
  using Clock = std::chrono::steady_clock;
  auto made = pushcgi::make_source("http://camera.invalid/video", pushcgi::SourceOptions{});
  if (!made) {
    std::printf("not made: %s\n", made.error().c_str());
    return 1;
  }
  std::unique_ptr<pushcgi::FrameSource> source = std::move(made.value());
  source->start([](std::string) {});
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const bool was_resolving = resolving;
  const auto start = Clock::now();
  source->stop();
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  std::printf("stopped in %lld ms %s resolving\n", static_cast<long long>(took.count()),
              was_resolving ? "while" : "before");
  std::fflush(stdout);
  // The resolver thread, left to finish on its own, still sleeps: not waited for.
  std::_Exit(0);
}
