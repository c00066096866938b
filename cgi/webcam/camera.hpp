// One camera of webcam.fcgi: a frame source, run only while somebody watches it, shared by
// every viewer of it (one JPEG in memory per frame, its part header made once), and what its
// routes answer: its page, its stream, a snapshot, and its figures for /state. Where those
// routes are (/stream or /NAME/stream) is WebcamService's business.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "pushcgi/fanout_metrics.hpp"
#include "pushcgi/hub.hpp"
#include "pushcgi/json.hpp"
#include "pushcgi/rate_meter.hpp"
#include "pushcgi/redis_publisher.hpp"
#include "pushcgi/request.hpp"
#include "pushcgi/response.hpp"
#include "pushcgi/source_runner.hpp"

namespace pushcgi {

struct CameraSettings {
  std::chrono::milliseconds linger{3000};  // the source runs on this long after the last viewer
  bool skip_unchanged = false;             // see SourceRunner
  std::string publish;     // a checked redis:// URL its frames go to while servers subscribe, or ""
  std::string netrc_file;  // the publishing password, when publish holds none
};

class Camera {
 public:
  static constexpr std::chrono::seconds kRepeat{1};
  static constexpr std::chrono::seconds kSnapshotTimeout{5};
  // /state lists this many viewers at most (those falling behind first), and counts all.
  static constexpr std::size_t kListedViewers = 100;

  // name: "" for the one camera of a plain --source SPEC.
  Camera(std::string name, std::unique_ptr<FrameSource> source, CameraSettings settings = {});
  Camera(const Camera&) = delete;
  Camera& operator=(const Camera&) = delete;

  const std::string& name() const { return name_; }
  // What the source is ("testcard 640x480 at 15 fps", the --source-label), for the pages.
  std::string describe() const;
  // The size of the newest frame, or {0, 0} before the first one (the page's <img> size).
  std::pair<int, int> picture_size() const;

  // The answers of its routes. The page's links lead to SCRIPT_NAME + "/" for the plain
  // camera, SCRIPT_NAME + "/NAME/" for a named one (with a link back to the list).
  void page(const Request& request, Response& response) const;
  void stream(const Request& request, Response& response);
  void snapshot(const Request& request, Response& response);
  // Its fields of /state: "source", "frames_out", "frames_out_per_second", "viewers",
  // "viewers_total" (its open streams).
  void add_figures(JsonObject& object) const;
  // Its streams open now.
  std::size_t open_streams() const;
  // Its parts of /metrics, labelled with its name ("default" for the one plain camera).
  std::string metrics_name() const { return name_.empty() ? "default" : name_; }
  HubFigures hub_figures() const { return pushcgi::hub_figures(metrics_name(), hub_); }
  SourceStatus source_status() const { return runner_.status(); }
  const RedisPublisher* publisher() const { return publisher_.get(); }

 private:
  std::chrono::steady_clock::duration max_frame_age() const;
  std::vector<SubscriptionStats> stream_stats() const;

  const std::string name_;
  const std::string boundary_;  // one for all its streams: frames are checked for it once
  Hub<Frame> hub_;
  RateMeter frames_out_;
  SourceRunner runner_;                        // uses the hub
  std::unique_ptr<RedisPublisher> publisher_;  // last: watches the hub like a viewer
};

}  // namespace pushcgi
