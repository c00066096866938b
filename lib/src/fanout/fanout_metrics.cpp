#include "pushcgi/fanout_metrics.hpp"

namespace pushcgi {

namespace {

// One family: a sample per item, labelled hub="item's name".
template <typename Item, typename Value>
void family(MetricsText& metrics, const std::vector<Item>& items, std::string_view name,
            MetricType type, std::string_view help, Value value) {
  if (items.empty()) return;
  metrics.family(name, type, help);
  for (const Item& item : items) metrics.sample(value(item), {{"hub", item.name}});
}

}  // namespace

void write_hub_metrics(MetricsText& metrics, const std::vector<HubFigures>& hubs) {
  family(metrics, hubs, "pushcgi_values_published_total", MetricType::counter,
         "Values (frames, snapshots) published to the hub.",
         [](const HubFigures& hub) { return hub.published; });
  family(metrics, hubs, "pushcgi_values_delivered_total", MetricType::counter,
         "Values taken from the hub by its viewers, summed over them.",
         [](const HubFigures& hub) { return hub.delivered; });
  family(metrics, hubs, "pushcgi_values_skipped_total", MetricType::counter,
         "Values a viewer never got because a newer one came first (a slow viewer gets the "
         "newest), summed over the viewers.",
         [](const HubFigures& hub) { return hub.skipped; });
  family(metrics, hubs, "pushcgi_viewers", MetricType::gauge,
         "Subscriptions to the hub now: streams, waiting snapshots, publishers.",
         [](const HubFigures& hub) { return hub.viewers; });
}

void write_source_metrics(MetricsText& metrics, const std::vector<NamedSource>& sources) {
  family(metrics, sources, "pushcgi_source_up", MetricType::gauge,
         "1 while the source runs (it runs only while someone watches).",
         [](const NamedSource& source) { return source.status.running ? 1u : 0u; });
  family(metrics, sources, "pushcgi_source_starts_total", MetricType::counter,
         "Times the source was started: for a viewer after a quiet spell, and again after "
         "a failure or a stall.",
         [](const NamedSource& source) { return source.status.starts; });
  family(metrics, sources, "pushcgi_source_frames_received_total", MetricType::counter,
         "Frames (or messages) the source delivered.",
         [](const NamedSource& source) { return source.status.frames_in; });
  family(metrics, sources, "pushcgi_source_frames_dropped_total", MetricType::counter,
         "Frames that failed the checks (not a whole JPEG, too large) and were not published.",
         [](const NamedSource& source) { return source.status.frames_dropped; });
  family(metrics, sources, "pushcgi_source_frames_unchanged_total", MetricType::counter,
         "Frames equal to the one before, not published (--skip-unchanged).",
         [](const NamedSource& source) { return source.status.frames_unchanged; });
  family(metrics, sources, "pushcgi_source_incidents_total", MetricType::counter,
         "Failures, stalls and restarts of the source (/state says the last).",
         [](const NamedSource& source) { return source.status.incidents.count; });
  std::vector<NamedSource> timed;
  for (const NamedSource& source : sources) {
    if (source.status.cpu_seconds) timed.push_back(source);
  }
  family(metrics, timed, "pushcgi_source_cpu_seconds_total", MetricType::counter,
         "CPU time the source's thread took to produce (an exec: source's program is a "
         "process of its own).",
         [](const NamedSource& source) { return *source.status.cpu_seconds; });
}

void write_publisher_metrics(MetricsText& metrics, const std::vector<NamedPublisher>& publishers) {
  family(metrics, publishers, "pushcgi_redis_publisher_connected", MetricType::gauge,
         "1 while the publisher is connected to Redis.",
         [](const NamedPublisher& p) { return p.status.connected ? 1u : 0u; });
  family(metrics, publishers, "pushcgi_redis_publisher_subscribers", MetricType::gauge,
         "Subscribers of the channel at Redis's last count (PUBSUB NUMSUB).",
         [](const NamedPublisher& p) { return static_cast<std::int64_t>(p.status.subscribers); });
  family(metrics, publishers, "pushcgi_redis_published_total", MetricType::counter,
         "Values published to the Redis channel.",
         [](const NamedPublisher& p) { return p.status.frames_published; });
  family(metrics, publishers, "pushcgi_redis_publisher_incidents_total", MetricType::counter,
         "Lost connections and refused commands of the publisher.",
         [](const NamedPublisher& p) { return p.status.incidents.count; });
}

}  // namespace pushcgi
