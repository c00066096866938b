// The image stream behind webcam.fcgi: one frame source, run only while somebody watches,
// shared by every viewer (one JPEG in memory per frame, its part header made once).
//
// Routes (below the program's mount point):
//   /          a page with the stream inline in a plain <img>; ?mode=pull: a page that
//              reloads /snapshot every ?interval= seconds instead
//   /stream    multipart/x-mixed-replace of image/jpeg parts: browser framing for browsers
//              (each frame shows when it is sent, not one frame late), length framing with
//              Content-Length and X-Timestamp for everything else (?framing= overrides);
//              ?fps=N caps this viewer's rate; the last frame is repeated after a second of
//              quiet; a viewer still reading the previous frame skips frames, never queues
//   /snapshot  one JPEG from the running source (waits for it when it was idle; 503 with
//              Retry-After if none comes within kSnapshotTimeout)
//   /state     JSON: open streams, the source's status, frames in and out per second, and
//              per viewer frames sent, frames skipped and seconds connected
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "pushcgi/hub.hpp"
#include "pushcgi/rate_meter.hpp"
#include "pushcgi/server.hpp"
#include "pushcgi/source_runner.hpp"

namespace pushcgi {

struct WebcamOptions {
  std::chrono::milliseconds linger{3000};  // the source runs on this long after the last viewer
  bool skip_unchanged = false;             // see SourceRunner
};

class WebcamService {
 public:
  static constexpr std::chrono::seconds kRepeat{1};
  static constexpr std::chrono::seconds kSnapshotTimeout{5};
  // /state lists this many viewers at most (those falling behind first), and counts all.
  static constexpr std::size_t kListedViewers = 100;

  WebcamService(std::unique_ptr<FrameSource> source, WebcamOptions options = {});
  WebcamService(const WebcamService&) = delete;
  WebcamService& operator=(const WebcamService&) = delete;

  void add_routes(Server& server);

 private:
  std::chrono::steady_clock::duration max_frame_age() const;
  void page(const Request& request, Response& response) const;
  void stream(const Request& request, Response& response);
  void snapshot(const Request& request, Response& response);
  void state(const Request& request, Response& response) const;

  const std::string boundary_;  // one for all streams: frames are checked for it once
  const Server* server_ = nullptr;
  Hub<Frame> hub_;
  RateMeter frames_out_;
  SourceRunner runner_;  // last: uses the hub
};

}  // namespace pushcgi
