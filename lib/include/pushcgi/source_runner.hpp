// Runs a frame source only while somebody watches: the first viewer starts it, and it stops
// `linger` after the last one leaves (a page reload does not restart a camera). Every frame
// is checked once and published, with its part header rendered once, for all viewers.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "pushcgi/hub.hpp"
#include "pushcgi/json.hpp"
#include "pushcgi/log.hpp"
#include "pushcgi/multipart.hpp"
#include "pushcgi/rate_meter.hpp"
#include "pushcgi/sources/source.hpp"

namespace pushcgi {

struct Frame {
  std::string jpeg;
  int width = 0;
  int height = 0;
  std::uint64_t number = 0;  // 1, 2, 3, ... since the program started
  std::chrono::system_clock::time_point produced;
  std::chrono::steady_clock::time_point published_at;
  // The length-framing part header (Content-Type, Content-Length, X-Timestamp, X-Frame),
  // the same for every viewer; browser framing needs none before the body.
  std::string length_head;
};

struct SourceStatus {
  std::string describe;
  bool running = false;
  unsigned starts = 0;
  std::uint64_t frames_in = 0;
  std::uint64_t frames_dropped = 0;
  std::uint64_t frames_unchanged = 0;  // whole frames equal to the one before, not published
  double frames_in_per_second = 0;
  std::string problem;  // the source's own status, or the last dropped frame's reason
  SourceIncidents incidents;
  std::optional<double> cpu_seconds;  // if the source knows (FrameSource::cpu_time)
};

// Its /state object: describe, running, starts, `received` (frames_in, under the name the
// program gives what comes in), problem, incidents, last_incident; a program adds its own.
JsonObject to_json(const SourceStatus& status, std::string_view received);

class SourceRunner {
 public:
  // boundary: the multipart boundary every stream of this hub uses; a frame containing it
  // is dropped here, once, instead of being checked per viewer. skip_unchanged: a frame
  // whose bytes equal the last one published is not published (a still scene costs the
  // viewers nothing; their streams repeat the last frame after a second of quiet anyway).
  SourceRunner(Hub<Frame>& hub, std::unique_ptr<FrameSource> source,
               std::chrono::milliseconds linger, std::string boundary, bool skip_unchanged = false);
  ~SourceRunner();
  SourceRunner(const SourceRunner&) = delete;
  SourceRunner& operator=(const SourceRunner&) = delete;

  SourceStatus status() const;
  // Since when the source has been running this time; nothing while it is stopped. A frame
  // from before is from an earlier run: stale.
  std::optional<std::chrono::steady_clock::time_point> running_since() const;

 private:
  void control();
  void accept(std::string jpeg);
  bool same_as_last(const std::string& jpeg) const;
  void count_drop(std::string_view reason, std::uint64_t count);
  // Logs message (rate-limited) and counts count frames dropped, the last for reason.
  void record_drop(const std::string& message, std::string_view reason, std::uint64_t count);
  std::uint64_t next_number();

  Hub<Frame>& hub_;
  std::unique_ptr<FrameSource> source_;
  const std::chrono::milliseconds linger_;
  const bool skip_unchanged_;
  const std::string dash_boundary_;
  const MultipartWriter length_writer_;
  RateMeter frames_in_;
  // A camera program can break thousands of frames a second (a flood of start markers);
  // each is counted, one line per 10 s is logged.
  LogThrottle drop_log_{"dropped frames", std::chrono::seconds(10)};

  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  unsigned viewers_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  unsigned starts_ = 0;
  std::chrono::steady_clock::time_point started_at_;
  std::uint64_t number_ = 0;
  std::uint64_t dropped_ = 0;
  std::uint64_t unchanged_ = 0;
  std::string drop_reason_;
  std::chrono::steady_clock::time_point last_viewer_left_;
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace pushcgi
