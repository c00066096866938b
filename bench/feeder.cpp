// The frames the peers serve: the same testcard webcam.fcgi draws (640x480, quality 80),
// each marked with a JPEG comment "pushcgi-bench t=SECONDS n=NUMBER" right after SOI, so
// that bench/loadgen can tell latency and spread without a part header. Used by bench/run.py.
//
//   build/bench/feeder --stdout [--fps 15] [--seconds 900]      MJPEG on standard output
//   build/bench/feeder --post PORT PATH [--fps 15] [--seconds 900]
//                                        each frame POSTed (HTTP/1.1 keep-alive), e.g. nchan
//   build/bench/feeder --write FILE                             one frame into FILE
//
// Frames are drawn ahead (one second's worth, then reused), so the feeder's own CPU is
// mostly the writing; it stops by itself after --seconds.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "pushcgi/sources/testcard.hpp"
#include "support/figures.hpp"
#include "support/http_client.hpp"

namespace {

[[noreturn]] void usage(const char* problem) {
  std::fprintf(stderr, "feeder: %s (see the comment at the top of bench/feeder.cpp)\n", problem);
  std::exit(2);
}

std::string marked(const std::string& jpeg, std::uint64_t number) {
  char text[96];
  const int size =
      std::snprintf(text, sizeof text, "pushcgi-bench t=%.6f n=%llu",
                    pushcgi::test::wall_seconds_now(), static_cast<unsigned long long>(number));
  const std::size_t length = static_cast<std::size_t>(size) + 2;
  std::string out = jpeg.substr(0, 2);
  out += '\xFF';
  out += '\xFE';
  out += static_cast<char>(length >> 8);
  out += static_cast<char>(length & 0xFF);
  out.append(text, static_cast<std::size_t>(size));
  out.append(jpeg, 2, std::string::npos);
  return out;
}

bool write_all(int fd, const std::string& data) {
  std::size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = write(fd, data.data() + done, data.size() - done);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return true;
}

// Reads one HTTP/1.1 response (head and Content-Length body); false if the peer closed.
bool read_response(int fd, std::string& status) {
  std::string response;
  char buffer[4096];
  for (;;) {
    const std::size_t end = response.find("\r\n\r\n");
    if (end != std::string::npos) {
      const std::size_t key = response.find("Content-Length: ");
      const std::size_t length = key != std::string::npos && key < end
                                     ? std::strtoul(response.c_str() + key + 16, nullptr, 10)
                                     : 0;
      if (response.size() >= end + 4 + length) {
        status = response.substr(0, response.find("\r\n"));
        return true;
      }
    }
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) return false;
    response.append(buffer, static_cast<std::size_t>(n));
  }
}

[[noreturn]] void fail(const char* problem) {
  std::fprintf(stderr, "feeder: %s\n", problem);
  std::exit(1);
}

}  // namespace

int main(int argc, char** argv) {
  enum { none, to_stdout, post, write_file } mode = none;
  int port = 0;
  std::string target;
  double fps = 15;
  double seconds = 900;
  for (int i = 1; i < argc; ++i) {
    const std::string name = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage("an option needs a value");
      return argv[++i];
    };
    if (name == "--stdout") {
      mode = to_stdout;
    } else if (name == "--post") {
      mode = post;
      port = std::atoi(value().c_str());
      target = value();
    } else if (name == "--write") {
      mode = write_file;
      target = value();
    } else if (name == "--fps") {
      fps = std::atof(value().c_str());
    } else if (name == "--seconds") {
      seconds = std::atof(value().c_str());
    } else {
      usage("unknown option");
    }
  }
  if (mode == none || fps <= 0 || fps > 1000) usage("one of --stdout, --post, --write is needed");

  pushcgi::Testcard testcard(640, 480);
  if (mode == write_file) {
    std::ofstream(target, std::ios::binary)
        << marked(testcard.render(0, std::chrono::system_clock::now()), 0);
    return 0;
  }
  std::vector<std::string> frames;
  for (int n = 0; n < static_cast<int>(fps); ++n) {
    frames.push_back(
        testcard.render(static_cast<std::uint64_t>(n), std::chrono::system_clock::now()));
  }
  signal(SIGPIPE, SIG_IGN);
  int fd = STDOUT_FILENO;
  std::string request_head;
  if (mode == post) {
    fd = pushcgi::test::connect_loopback(port);
    if (fd < 0) fail("cannot connect to the publisher");
    request_head = "POST " + target +
                   " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\nContent-Length: ";
  }
  const auto period = std::chrono::duration<double>(1.0 / fps);
  const auto start = std::chrono::steady_clock::now();
  const auto end = start + std::chrono::duration<double>(seconds);
  auto next = start;
  for (std::uint64_t number = 0; std::chrono::steady_clock::now() < end; ++number) {
    const std::string frame = marked(frames[number % frames.size()], number);
    if (mode == to_stdout) {
      if (!write_all(fd, frame)) return 0;  // the reader went away
    } else {
      if (!write_all(fd, request_head + std::to_string(frame.size()) + "\r\n\r\n" + frame)) {
        fail("the publisher connection closed");
      }
      std::string status;
      if (!read_response(fd, status)) fail("the publisher connection closed");
      if (status.find(" 20") == std::string::npos) {
        std::fprintf(stderr, "feeder: publisher answered %s\n", status.c_str());
        return 1;
      }
    }
    next += std::chrono::duration_cast<std::chrono::steady_clock::duration>(period);
    std::this_thread::sleep_until(next);
  }
  return 0;
}
