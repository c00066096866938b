// A stand-in for a camera program in tests: writes testcard JPEGs to standard output as an
// MJPEG stream, like `ffmpeg -f mjpeg -` or `libcamera-vid --codec mjpeg -o -`.
//
//   mjpeg_loop [--fps N] [--frames N [--then crash|hang|garbage] [--fault-once FILE]]
//              [--garbage] [--truncate-every N] [--soi-flood N]
//
// --frames N: exit after N frames (default: run until killed), or with --then, fail that
// way: crash (abort, SIGABRT), hang (alive, writing nothing) or garbage (writing bytes that
// are no JPEG, forever). --fault-once FILE: fail only if FILE does not exist yet (and create
// it), so the restarted child recovers and runs on. --garbage: bytes that are no JPEG
// between frames. --truncate-every N: every Nth frame is cut off in the middle.
// --still N: a new picture only every N frames, the same bytes in between (a still scene).
// --soi-flood N: before each frame, N segments of 64 KiB whose payload is FF D8 over and over
// (tests/support/soi_flood.hpp), as a hostile camera could send.
#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>

#include "../support/soi_flood.hpp"
#include "pushcgi/sources/testcard.hpp"

namespace {

bool write_all(const std::string& bytes) {
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, bytes.data() + done, bytes.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Fails as asked; returns only for "exit".
void fail(const std::string& how) {
  if (how == "crash") std::abort();
  if (how == "hang") {
    for (;;) pause();
  }
  if (how == "garbage") {
    const std::string noise(4096, 'x');
    for (;;) {
      if (!write_all(noise)) std::exit(0);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

// True the first time for path (which it creates), false once it exists.
bool first_time(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  unsigned fps = 20;
  unsigned long frames = 0;
  bool garbage = false;
  unsigned truncate_every = 0;
  unsigned long still = 1;  // a new picture every this many frames
  std::string then = "exit";
  std::string fault_once;
  std::string flood;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fps" && i + 1 < argc) fps = static_cast<unsigned>(std::stoul(argv[++i]));
    if (arg == "--frames" && i + 1 < argc) frames = std::stoul(argv[++i]);
    if (arg == "--garbage") garbage = true;
    if (arg == "--still" && i + 1 < argc) still = std::stoul(argv[++i]);
    if (arg == "--then" && i + 1 < argc) then = argv[++i];
    if (arg == "--fault-once" && i + 1 < argc) fault_once = argv[++i];
    if (arg == "--truncate-every" && i + 1 < argc)
      truncate_every = static_cast<unsigned>(std::stoul(argv[++i]));
    if (arg == "--soi-flood" && i + 1 < argc)
      flood = pushcgi::test::soi_flood(std::stoul(argv[++i]));
  }
  pushcgi::Testcard card(160, 120);
  const auto period = std::chrono::microseconds(1000000 / fps);
  auto next = std::chrono::steady_clock::now();
  for (unsigned long n = 1;; ++n) {
    if (frames > 0 && n == frames + 1) {
      if (fault_once.empty() || first_time(fault_once)) {
        fail(then);
        return 0;
      }
    }
    // A still scene: the same bytes again until the picture changes.
    static std::string picture;
    if (picture.empty() || (n - 1) % still == 0) {
      picture = card.render(n, std::chrono::system_clock::now());
    }
    std::string frame = picture;
    if (truncate_every > 0 && n % truncate_every == 0) frame.resize(frame.size() / 2);
    if (garbage && !write_all("garbage between frames\n")) return 0;
    if (!flood.empty() && !write_all(flood)) return 0;
    if (!write_all(frame)) return 0;  // the reader is gone
    next += period;
    std::this_thread::sleep_until(next);
  }
  return 0;
}
