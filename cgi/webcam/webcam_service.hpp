// webcam.fcgi's routes: which camera answers where, the list of cameras and /state. Each
// camera (camera.hpp) runs its source only while somebody watches it.
//
// One camera (a plain --source SPEC, or none: the testcard), below the program's mount point:
//   /          a page with the stream inline in a plain <img>; ?mode=pull: a page that
//              reloads /snapshot every ?interval= seconds instead
//   /stream    multipart/x-mixed-replace of image/jpeg parts: browser framing for browsers
//              (each frame shows when it is sent, not one frame late), length framing with
//              Content-Length and X-Timestamp for everything else (?framing= overrides);
//              ?fps=N caps this viewer's rate; the last frame is repeated after a second of
//              quiet; a viewer still reading the previous frame skips frames, never queues
//   /snapshot  one JPEG from the running source (waits for it when it was idle; 503 with
//              Retry-After if none comes within Camera::kSnapshotTimeout)
//   /state     JSON: open streams, the source's status, frames in and out per second, and
//              per viewer frames sent, frames skipped and seconds connected
//
// Several cameras (--source NAME=SPEC, repeatable):
//   /               the wall: every camera's picture, live (over HTTP/1.x as many as the
//                   browser's six connections allow, the others a snapshot a second), each
//                   linking to its page, and the --wall-panel page beside them
//   /NAME/          that camera's page as / above (its <img> shows /NAME/stream); /NAME
//                   redirects there
//   /NAME/stream, /NAME/snapshot   as /stream and /snapshot, from that camera
//   /NAME/state     that camera's /state as above, with "name" first; its "open_streams"
//                   counts its own streams
//   /state          {"open_streams", "threads", "cameras": [{"name", "source", "frames_out",
//                   ..., "viewers_total"}, ...]}
//   a NAME that is no camera's: 404 "no camera named 'NAME'"
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "camera.hpp"
#include "pushcgi/server.hpp"

namespace pushcgi {

class WebcamService {
 public:
  // cameras: one without a name (today's routes), or any number with names (routes below
  // their names).
  // wall_panel: a page of this site shown beside the cameras on the wall ("" for none).
  WebcamService(std::vector<std::unique_ptr<Camera>> cameras, std::string wall_panel);
  WebcamService(const WebcamService&) = delete;
  WebcamService& operator=(const WebcamService&) = delete;

  void add_routes(Server& server);

 private:
  bool named() const { return !cameras_.empty() && !cameras_.front()->name().empty(); }
  void add_camera_routes(Server& server, Camera& camera);
  void wall(const Request& request, Response& response) const;
  void state(const Request& request, Response& response) const;
  void write_metrics(MetricsText& metrics) const;
  void camera_state(const Camera& camera, Response& response) const;
  void redirect_to_page(const Camera& camera, const Request& request, Response& response) const;
  void not_found(const Request& request, Response& response) const;

  std::vector<std::unique_ptr<Camera>> cameras_;
  std::string wall_panel_;
  const Server* server_ = nullptr;
};

}  // namespace pushcgi
