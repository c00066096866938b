// MjpegSplitter throughput, in bytes per second of CPU, on real frames and on a hostile
// stream, fed in the exec: source's 64 KiB reads; then webcam.fcgi's CPU on a camera
// program that sends the hostile stream.
//
//   build/bench/splitter [--mib N] [--runs N] [--seconds N]
//   (the program part needs build/tests/mjpeg_loop: make build/tests/mjpeg_loop; --seconds 0
//   leaves it out)
//
// Real frames: the 640x480 testcard (about 40 KB each), 16 different ones over and over.
// Hostile: one SOI, then 64 KiB APP1 segments whose payload is FF D8 over and over
// (tests/support/soi_flood.hpp), so that every other byte looks like the start of a frame.
// Each is split with webcam.fcgi's default limit (8 MiB) and with its smallest (16 KiB).
// A figure is the median of --runs runs over --mib MiB; the CPU time is this thread's
// (CLOCK_THREAD_CPUTIME_ID), so other programs on the machine count little.
//
// The program: webcam.fcgi --source "exec:mjpeg_loop --fps 50 --soi-flood 16" (1 MiB of
// flood before each 160x120 frame) with one viewer, for --seconds after a 1 s warm-up: its
// CPU (utime+stime) per MB the child wrote, at both limits.
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "pushcgi/jpeg.hpp"
#include "pushcgi/sources/testcard.hpp"
#include "support/fcgi_client.hpp"
#include "support/figures.hpp"
#include "support/process.hpp"
#include "support/soi_flood.hpp"

namespace {

unsigned arg(int argc, char** argv, const char* name, unsigned fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return static_cast<unsigned>(std::stoul(argv[i + 1]));
  }
  return fallback;
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

std::string real_frames(std::size_t bytes) {
  pushcgi::Testcard card(640, 480);
  std::vector<std::string> frames;
  for (std::uint64_t n = 1; n <= 16; ++n) {
    frames.push_back(card.render(n, std::chrono::system_clock::now()));
  }
  std::string stream;
  for (std::size_t k = 0; stream.size() < bytes; ++k) stream += frames[k % frames.size()];
  return stream;
}

struct Run {
  double seconds = 0;
  std::size_t frames = 0;
  std::size_t drops = 0;
};

Run split(const std::string& stream, std::size_t limit) {
  Run run;
  pushcgi::MjpegSplitter splitter(
      limit, [&run](std::string) { ++run.frames; }, [&run](std::string_view) { ++run.drops; });
  const double start = thread_cpu_seconds();
  for (std::size_t at = 0; at < stream.size(); at += 65536) {
    splitter.feed(std::string_view(stream).substr(at, 65536));
  }
  splitter.finish();
  run.seconds = thread_cpu_seconds() - start;
  return run;
}

void measure(const char* name, const std::string& stream, std::size_t limit, unsigned runs) {
  std::vector<double> seconds;
  Run last;
  for (unsigned k = 0; k < runs; ++k) {
    last = split(stream, limit);
    seconds.push_back(last.seconds);
  }
  std::sort(seconds.begin(), seconds.end());
  const double median = seconds[seconds.size() / 2];
  const double rate = static_cast<double>(stream.size()) / median / 1e6;
  std::printf("| %s | %zu KiB | %.1f | %.*f | %zu | %zu |\n", name, limit >> 10,
              static_cast<double>(stream.size()) / (1 << 20), rate >= 10 ? 0 : 3, rate, last.frames,
              last.drops);
}

// webcam.fcgi's CPU per MB of flood, and the drops it counted.
void program_on_flood(unsigned limit_kib, unsigned seconds) {
  using namespace pushcgi::test;
  constexpr unsigned kSegments = 16;
  TempDir dir;
  const std::string socket = dir.file("webcam.sock");
  Process webcam(
      {bin_path("webcam.fcgi"), "--socket", socket, "--threads", "4", "--source",
       "exec:" + test_bin_path("mjpeg_loop") + " --fps 50 --soi-flood " + std::to_string(kSegments),
       "--max-frame-kib", std::to_string(limit_kib), "--log-level", "warning"});
  FcgiClient viewer;
  if (!viewer.connect_unix(socket) || !viewer.send_request(get_params("/stream")) ||
      !viewer.read_until([](const std::string& out) { return parts_done(out) >= 1; },
                         std::chrono::seconds(10))) {
    std::printf("| %u KiB | webcam.fcgi sent no frame |\n", limit_kib);
    return;
  }
  const auto state = [&socket] {
    FcgiClient client;
    if (client.connect_unix(socket)) client.send_request(get_params("/state"));
    client.read_to_end(std::chrono::seconds(10));
    return client.out();
  };
  viewer.read_until([](const std::string&) { return false; }, std::chrono::seconds(1));
  const std::string before = state();
  const double cpu_before = cpu_seconds_of(webcam.pid());
  viewer.read_until([](const std::string&) { return false; }, std::chrono::seconds(seconds));
  const double cpu = cpu_seconds_of(webcam.pid()) - cpu_before;
  const std::string after = state();
  const long frames = json_field(after, "frames_in") - json_field(before, "frames_in");
  const long drops = json_field(after, "frames_dropped") - json_field(before, "frames_dropped");
  const double mb = static_cast<double>(frames) * (2 + kSegments * 65536) / 1e6;
  std::printf("| %u KiB | %.0f | %.2f | %.0f | %ld | %ld |\n", limit_kib, mb / seconds, cpu,
              cpu > 0 ? mb / cpu : 0.0, frames, drops);
  webcam.stop();
}

}  // namespace

int main(int argc, char** argv) {
  const unsigned mib = arg(argc, argv, "--mib", 32);
  const unsigned runs = arg(argc, argv, "--runs", 5);
  const std::string frames = real_frames(std::size_t{mib} << 20);
  const std::string flood = pushcgi::test::soi_flood(std::size_t{mib} << 4);
  std::printf("median of %u runs, MB (10^6 bytes) per CPU second, 64 KiB reads\n\n", runs);
  std::printf(
      "| input | limit | MiB | MB/s | frames | drops |\n| --- | --- | --- | --- | --- | --- |\n");
  for (const std::size_t limit : {std::size_t{8} << 20, std::size_t{16} << 10}) {
    measure("testcard 640x480", frames, limit, runs);
    measure("FF D8 flood", flood, limit, runs);
  }
  const unsigned seconds = arg(argc, argv, "--seconds", 5);
  if (seconds == 0) return 0;
  std::printf("\nwebcam.fcgi on exec:mjpeg_loop --fps 50 --soi-flood 16, one viewer, %u s\n\n",
              seconds);
  std::printf(
      "| limit | flood MB/s | CPU s | MB per CPU s | frames | drops |\n"
      "| --- | --- | --- | --- | --- | --- |\n");
  for (const unsigned limit_kib : {8192u, 16u}) program_on_flood(limit_kib, seconds);
  return 0;
}
