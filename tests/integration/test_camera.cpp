#include "test_camera.hpp"

#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "pushcgi/sources/testcard.hpp"
#include "support/figures.hpp"
#include "support/http_client.hpp"

namespace pushcgi::test {

namespace {

constexpr const char* kComPrefix = "\xff\xfe";
constexpr const char* kFrameText = "camera-frame ";

}  // namespace

TestCamera::TestCamera(std::vector<std::string> args) {
  jpeg_ = still_jpeg();
  std::ofstream(dir_.file("camera.jpg"), std::ios::binary) << jpeg_;
  std::vector<std::string> argv = {
      "/usr/bin/python3", std::string(PUSHCGI_SOURCE_DIR) + "/tests/helpers/camera_server.py",
      "--port-file",      dir_.file("port"),
      "--jpeg",           dir_.file("camera.jpg")};
  argv.insert(argv.end(), args.begin(), args.end());
  SpawnOptions spawn;
  spawn.stderr_path = dir_.file("camera.log");
  process_ = Process(argv, spawn);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (port_ == 0 && std::chrono::steady_clock::now() < deadline) {
    const std::string text = read_file(dir_.file("port"));
    if (!text.empty()) port_ = std::stoi(text);
    if (port_ == 0) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (port_ == 0) {
    throw std::runtime_error("camera_server.py did not start: " +
                             read_file(dir_.file("camera.log")));
  }
}

std::string TestCamera::still_jpeg() {
  return Testcard(160, 120).render(1, std::chrono::system_clock::time_point{});
}

TestCamera::~TestCamera() {
  process_.stop(std::chrono::seconds(1));
}

std::string TestCamera::url(const std::string& path, const std::string& userinfo) const {
  return "http://" + (userinfo.empty() ? "" : userinfo + "@") +
         "127.0.0.1:" + std::to_string(port_) + path;
}

bool TestCamera::fault(const std::string& name) const {
  return http_get(port_, "/control?fault=" + name).rfind("HTTP/1.1 200 ", 0) == 0;
}

long TestCamera::stat(const std::string& name) const {
  return json_field(http_get(port_, "/stats"), name);
}

std::string TestCamera::frame(unsigned long n) const {
  const std::string text = kFrameText + std::to_string(n);
  const std::size_t length = text.size() + 2;
  return jpeg_.substr(0, 2) + kComPrefix + static_cast<char>(length >> 8) +
         static_cast<char>(length & 0xff) + text + jpeg_.substr(2);
}

unsigned long camera_frame(const std::string& jpeg) {
  const std::string head = std::string("\xff\xd8") + kComPrefix;
  if (jpeg.size() < 20 || jpeg.rfind(head, 0) != 0 || jpeg.compare(6, 13, kFrameText) != 0) {
    return 0;
  }
  return std::stoul(jpeg.substr(19, 20));
}

std::vector<unsigned long> camera_frames(const std::string& out) {
  std::vector<unsigned long> numbers;
  const std::string marker = std::string("\xff\xd8") + kComPrefix;
  for (std::size_t at = out.find(marker); at != std::string::npos; at = out.find(marker, at + 1)) {
    if (const unsigned long n = camera_frame(out.substr(at, 40))) numbers.push_back(n);
  }
  return numbers;
}

std::vector<std::string> browser_bodies(const std::string& out) {
  std::vector<std::string> bodies;
  const std::string block = "--" + boundary_of(out) + "\r\nContent-Type: image/jpeg\r\n\r\n";
  std::size_t start = out.find(block, body_start(out));
  while (start != std::string::npos) {
    start += block.size();
    const std::size_t end = out.find("\r\n" + block, start);
    if (end == std::string::npos) break;
    bodies.push_back(out.substr(start, end - start));
    start = end + 2;
  }
  return bodies;
}

}  // namespace pushcgi::test
