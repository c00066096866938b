#include "pushcgi/stream_metrics.hpp"

#include "pushcgi/metrics_text.hpp"

namespace pushcgi {

std::string_view metric_label(StreamEnd end) {
  switch (end) {
    case StreamEnd::viewer_left:
      return "viewer_left";
    case StreamEnd::time_limit:
      return "time_limit";
    case StreamEnd::shutdown:
      return "shutdown";
    case StreamEnd::stalled:
      return "stalled";
    case StreamEnd::refused:
      return "refused";
    case StreamEnd::failed:
      return "failed";
    case StreamEnd::program:
      return "program";
  }
  return "program";
}

void RouteStreams::refused() {
  started_.fetch_add(1, std::memory_order_acq_rel);
  ended_[static_cast<std::size_t>(StreamEnd::refused)].fetch_add(1, std::memory_order_acq_rel);
}

std::uint64_t RouteStreams::open() const {
  // Ends read first: a stream that ends meanwhile is never counted as ended and not started.
  std::uint64_t ended = 0;
  for (const auto& count : ended_) ended += count.load(std::memory_order_acquire);
  const std::uint64_t started = started_.load(std::memory_order_acquire);
  return started > ended ? started - ended : 0;
}

StreamTally::StreamTally(RouteStreams* route) : route_(route) {
  if (route_ != nullptr) route_->started_.fetch_add(1, std::memory_order_acq_rel);
}

StreamTally& StreamTally::operator=(StreamTally&& other) noexcept {
  if (this != &other) {
    end(StreamEnd::viewer_left);
    route_ = other.route_;
    ended_ = other.ended_;
    other.route_ = nullptr;
  }
  return *this;
}

void StreamTally::end(StreamEnd why) {
  if (route_ == nullptr || ended_) return;
  route_->ended_[static_cast<std::size_t>(why)].fetch_add(1, std::memory_order_acq_rel);
  ended_ = true;
}

void write_stream_metrics(MetricsText& metrics, const std::vector<const RouteStreams*>& routes) {
  metrics.family("pushcgi_streams_open", MetricType::gauge, "Streams open now, by route.");
  for (const RouteStreams* route : routes)
    metrics.sample(route->open(), {{"route", route->route()}});
  metrics.family("pushcgi_streams_started_total", MetricType::counter,
                 "Streams started, by route (refused ones too).");
  for (const RouteStreams* route : routes) {
    metrics.sample(route->started(), {{"route", route->route()}});
  }
  metrics.family("pushcgi_streams_ended_total", MetricType::counter,
                 "Streams ended, by route and why.");
  for (const RouteStreams* route : routes) {
    for (std::size_t i = 0; i < kStreamEnds; ++i) {
      const auto why = static_cast<StreamEnd>(i);
      metrics.sample(route->ended(why), {{"route", route->route()}, {"reason", metric_label(why)}});
    }
  }
  metrics.family("pushcgi_stream_sent_bytes_total", MetricType::counter,
                 "Bytes sent on streams (head included), by route.");
  for (const RouteStreams* route : routes)
    metrics.sample(route->bytes(), {{"route", route->route()}});
}

}  // namespace pushcgi
