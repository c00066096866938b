// What /metrics says about a program's streams, route by route: how many are open, how many
// started, how many ended and why, and the bytes they sent. Counted by the runtime (the
// router, the response, the event loops); a program only reads it.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace pushcgi {

class MetricsText;

// Why a stream ended, as the reason label of pushcgi_streams_ended_total.
enum class StreamEnd {
  viewer_left,  // the viewer closed the page (or the web server the connection)
  time_limit,   // --max-stream-seconds
  shutdown,     // the program stopped
  stalled,      // the viewer took nothing for a minute
  refused,      // at --max-streams: a 503 instead of the stream
  failed,       // a write or a render failed
  program,      // the handler ended it (the last: kStreamEnds counts from it)
};
inline constexpr std::size_t kStreamEnds = static_cast<std::size_t>(StreamEnd::program) + 1;
std::string_view metric_label(StreamEnd end);

// One route's streams. Counters only go up; open() is started less ended.
class RouteStreams {
 public:
  explicit RouteStreams(std::string route) : route_(std::move(route)) {}
  RouteStreams(const RouteStreams&) = delete;
  RouteStreams& operator=(const RouteStreams&) = delete;

  const std::string& route() const { return route_; }
  // A stream refused at the limit: started and ended at once.
  void refused();

  std::uint64_t started() const { return started_.load(std::memory_order_relaxed); }
  std::uint64_t ended(StreamEnd why) const {
    return ended_[static_cast<std::size_t>(why)].load(std::memory_order_relaxed);
  }
  std::uint64_t bytes() const { return bytes_.load(std::memory_order_relaxed); }
  std::uint64_t open() const;

 private:
  friend class StreamTally;

  const std::string route_;
  std::atomic<std::uint64_t> started_{0};
  std::array<std::atomic<std::uint64_t>, kStreamEnds> ended_{};
  std::atomic<std::uint64_t> bytes_{0};
};

// One stream's part of its route's counts; it moves with the stream from the worker that
// started it to the event loop that writes it. Made: a start. end(): the end and why, as
// the stream stops counting as open (its end bytes, sent after, still count as sent);
// destroyed without one (the viewer was gone before the hand-over): viewer_left.
class StreamTally {
 public:
  StreamTally() = default;
  explicit StreamTally(RouteStreams* route);  // nullptr: counts nothing
  StreamTally(StreamTally&& other) noexcept : route_(other.route_), ended_(other.ended_) {
    other.route_ = nullptr;
  }
  StreamTally& operator=(StreamTally&& other) noexcept;
  ~StreamTally() { end(StreamEnd::viewer_left); }
  StreamTally(const StreamTally&) = delete;
  StreamTally& operator=(const StreamTally&) = delete;

  explicit operator bool() const { return route_ != nullptr; }
  void sent(std::uint64_t bytes) {
    if (route_ != nullptr) route_->bytes_.fetch_add(bytes, std::memory_order_relaxed);
  }
  // The first call counts; later ones do nothing.
  void end(StreamEnd why);

 private:
  RouteStreams* route_ = nullptr;
  bool ended_ = false;
};

// pushcgi_streams_open, pushcgi_streams_started_total, pushcgi_streams_ended_total (one
// sample per reason) and pushcgi_stream_sent_bytes_total, for each route given.
void write_stream_metrics(MetricsText& metrics, const std::vector<const RouteStreams*>& routes);

}  // namespace pushcgi
