// /metrics families for the fan-out: hubs (values published, delivered to viewers, skipped
// by slow ones), frame sources (started, frames in, dropped, incidents) and Redis publishers.
// Each takes every item of its kind at once: a family's samples must come together.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "pushcgi/hub.hpp"
#include "pushcgi/metrics_text.hpp"
#include "pushcgi/redis_publisher.hpp"
#include "pushcgi/source_runner.hpp"

namespace pushcgi {

struct HubFigures {
  std::string name;  // the label value: a camera's name, "ps"
  std::uint64_t published = 0;
  std::uint64_t delivered = 0;
  std::uint64_t skipped = 0;
  unsigned viewers = 0;
};

template <typename T>
HubFigures hub_figures(std::string name, const Hub<T>& hub) {
  return HubFigures{std::move(name), hub.published(), hub.delivered(), hub.skipped(),
                    hub.viewers()};
}

// pushcgi_values_published_total, _delivered_total, _skipped_total and pushcgi_viewers,
// labelled hub="NAME".
void write_hub_metrics(MetricsText& metrics, const std::vector<HubFigures>& hubs);

struct NamedSource {
  std::string name;  // its hub's
  SourceStatus status;
};

// pushcgi_source_up, pushcgi_source_starts_total, pushcgi_source_frames_received_total,
// _dropped_total, _unchanged_total, pushcgi_source_incidents_total and
// pushcgi_source_cpu_seconds_total, labelled hub="NAME" (the hub the source feeds: one label
// name for both, so that `pushcgi_source_up == 0 and pushcgi_viewers > 0` matches).
void write_source_metrics(MetricsText& metrics, const std::vector<NamedSource>& sources);

struct NamedPublisher {
  std::string name;
  PublisherStatus status;
};

// pushcgi_redis_publisher_connected, pushcgi_redis_publisher_subscribers,
// pushcgi_redis_published_total and pushcgi_redis_publisher_incidents_total, labelled
// hub="NAME".
void write_publisher_metrics(MetricsText& metrics, const std::vector<NamedPublisher>& publishers);

}  // namespace pushcgi
