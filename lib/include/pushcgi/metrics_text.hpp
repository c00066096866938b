// The Prometheus text exposition format (version 0.0.4), as /metrics answers it:
//
//   MetricsText metrics;
//   metrics.family("pushcgi_streams_open", MetricType::gauge, "Streams open now.")
//       .sample(3, {{"route", "/stream"}});
//   response.send(200, MetricsText::kContentType, metrics.text());
//
// gives
//   # HELP pushcgi_streams_open Streams open now.
//   # TYPE pushcgi_streams_open gauge
//   pushcgi_streams_open{route="/stream"} 3
//
// A family's samples follow its HELP and TYPE lines; label values are escaped, so any text
// (a camera's name, a route) is safe in them. Names are the caller's, by Prometheus's rules
// (snake_case, a _total counter, base units); `promtool check metrics` checks them in the
// tests. Written here rather than with prometheus-cpp: its exposer is an HTTP server of its
// own beside the web server, and its registry would count again what the programs already
// count (docs/DEPLOY.md, "Prometheus").
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <set>
#include <string>
#include <string_view>
#include <utility>

namespace pushcgi {

enum class MetricType { counter, gauge };

using MetricLabels = std::initializer_list<std::pair<std::string_view, std::string_view>>;

class MetricsText {
 public:
  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Starts a family: its HELP and TYPE lines. A name given twice throws std::logic_error
  // (Prometheus would refuse the whole text): a program bug, which the router turns into a
  // 500 and one error line.
  MetricsText& family(std::string_view name, MetricType type, std::string_view help);
  // A sample of the family started last.
  MetricsText& sample(double value, MetricLabels labels = {});
  MetricsText& sample(std::uint64_t value, MetricLabels labels = {});
  MetricsText& sample(std::int64_t value, MetricLabels labels = {});
  MetricsText& sample(unsigned value, MetricLabels labels = {}) {
    return sample(static_cast<std::uint64_t>(value), labels);
  }
  MetricsText& sample(int value, MetricLabels labels = {}) {
    return sample(static_cast<std::int64_t>(value), labels);
  }

  const std::string& text() const { return text_; }

 private:
  MetricsText& line(std::string_view value, MetricLabels labels);

  std::string text_;
  std::string name_;
  std::set<std::string, std::less<>> names_;
};

}  // namespace pushcgi
