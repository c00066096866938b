// tests/helpers/camera_server.py, a stand-in IP camera, run for one test; and what a viewer
// of a relay got from it, read back from the bytes.
#pragma once

#include <string>
#include <vector>

#include "support/process.hpp"

namespace pushcgi::test {

class TestCamera {
 public:
  // args: more options of camera_server.py ("--auth", "digest", "--fps", "20", ...).
  explicit TestCamera(std::vector<std::string> args = {});
  ~TestCamera();
  TestCamera(const TestCamera&) = delete;
  TestCamera& operator=(const TestCamera&) = delete;

  int port() const { return port_; }
  // http://[userinfo@]127.0.0.1:PORT/path
  std::string url(const std::string& path, const std::string& userinfo = "") const;
  // GET /control?fault=name; false unless it answered 200.
  bool fault(const std::string& name) const;
  // A figure of GET /stats; -1 if it did not answer.
  long stat(const std::string& name) const;
  // The picture every frame is made of (without its "camera-frame N" segment).
  static std::string still_jpeg();
  // Frame n exactly as the camera sends it.
  std::string frame(unsigned long n) const;

 private:
  TempDir dir_;
  std::string jpeg_;
  Process process_;
  int port_ = 0;
};

// N of the "camera-frame N" COM segment right after a JPEG's SOI; 0 if it has none.
unsigned long camera_frame(const std::string& jpeg);
// The camera frame numbers of every JPEG in a stream's bytes, in order, however framed.
std::vector<unsigned long> camera_frames(const std::string& out);
// The bodies of the complete parts of a browser-framed stream (each part's header block
// follows the delimiter at once, without Content-Length).
std::vector<std::string> browser_bodies(const std::string& out);

}  // namespace pushcgi::test
