#include "pushcgi/metrics_text.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "pushcgi/stream_metrics.hpp"

namespace pushcgi {
namespace {

TEST(MetricsText, FamiliesHaveHelpAndTypeThenTheirSamples) {
  MetricsText metrics;
  metrics.family("pushcgi_streams_open", MetricType::gauge, "Streams open now.")
      .sample(3, {{"route", "/stream"}})
      .sample(0, {{"route", "/events"}});
  metrics.family("pushcgi_values_published_total", MetricType::counter, "Values.")
      .sample(std::uint64_t{18446744073709551615u});
  EXPECT_EQ(metrics.text(),
            "# HELP pushcgi_streams_open Streams open now.\n"
            "# TYPE pushcgi_streams_open gauge\n"
            "pushcgi_streams_open{route=\"/stream\"} 3\n"
            "pushcgi_streams_open{route=\"/events\"} 0\n"
            "# HELP pushcgi_values_published_total Values.\n"
            "# TYPE pushcgi_values_published_total counter\n"
            "pushcgi_values_published_total 18446744073709551615\n");
}

TEST(MetricsText, LabelValuesAndHelpAreEscaped) {
  MetricsText metrics;
  metrics.family("pushcgi_x", MetricType::gauge, "a \\ back\nslash")
      .sample(1, {{"camera", "a\"b\\c\nd"}, {"reason", "x"}});
  EXPECT_EQ(metrics.text(),
            "# HELP pushcgi_x a \\\\ back\\nslash\n"
            "# TYPE pushcgi_x gauge\n"
            "pushcgi_x{camera=\"a\\\"b\\\\c\\nd\",reason=\"x\"} 1\n");
}

TEST(MetricsText, DoublesKeepTheirPrecisionAndSpecialValuesTheirNames) {
  MetricsText metrics;
  metrics.family("pushcgi_x_seconds", MetricType::gauge, "x")
      .sample(0.1)
      .sample(1.0 / 3)
      .sample(1795741751.29)
      .sample(std::numeric_limits<double>::infinity())
      .sample(std::nan(""));
  EXPECT_EQ(metrics.text(),
            "# HELP pushcgi_x_seconds x\n# TYPE pushcgi_x_seconds gauge\n"
            "pushcgi_x_seconds 0.1\n"
            "pushcgi_x_seconds 0.3333333333333333\n"
            "pushcgi_x_seconds 1795741751.29\n"
            "pushcgi_x_seconds +Inf\n"
            "pushcgi_x_seconds NaN\n");
}

TEST(MetricsText, AFamilyWrittenTwiceIsAProgramError) {
  MetricsText metrics;
  metrics.family("pushcgi_x", MetricType::gauge, "x").sample(1);
  EXPECT_THROW(metrics.family("pushcgi_x", MetricType::gauge, "x"), std::logic_error);
}

TEST(StreamMetrics, ATallyCountsOneStartAndOneEnd) {
  RouteStreams route("/stream");
  {
    StreamTally tally(&route);
    tally.sent(100);
    EXPECT_EQ(route.open(), 1u);
    StreamTally moved = std::move(tally);  // to the event loop: still one stream
    EXPECT_FALSE(tally);
    moved.sent(20);
    moved.end(StreamEnd::time_limit);
    moved.end(StreamEnd::shutdown);  // counted once
    EXPECT_EQ(route.open(), 0u);
    moved.sent(5);  // its end bytes, after it stopped counting as open
  }
  {
    StreamTally gone(&route);  // destroyed without an end: the viewer was gone first
  }
  route.refused();
  EXPECT_EQ(route.started(), 3u);
  EXPECT_EQ(route.open(), 0u);
  EXPECT_EQ(route.ended(StreamEnd::time_limit), 1u);
  EXPECT_EQ(route.ended(StreamEnd::shutdown), 0u);
  EXPECT_EQ(route.ended(StreamEnd::viewer_left), 1u);
  EXPECT_EQ(route.ended(StreamEnd::refused), 1u);
  EXPECT_EQ(route.bytes(), 125u);
}

}  // namespace
}  // namespace pushcgi
