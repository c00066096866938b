#include "pushcgi/metrics_text.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace pushcgi {

namespace {

// \ and line feeds escaped, and " too in a label value (not in HELP text).
std::string escaped(std::string_view text, bool quotes) {
  std::string out;
  for (const char c : text) {
    if (c == '\\' || (quotes && c == '"')) {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view type_name(MetricType type) {
  return type == MetricType::counter ? "counter" : "gauge";
}

}  // namespace

MetricsText& MetricsText::family(std::string_view name, MetricType type, std::string_view help) {
  if (!names_.emplace(name).second) {
    throw std::logic_error("metrics family written twice: " + std::string(name));
  }
  name_ = name;
  text_ += "# HELP " + name_ + " " + escaped(help, false) + "\n";
  text_ += "# TYPE " + name_ + " " + std::string(type_name(type)) + "\n";
  return *this;
}

MetricsText& MetricsText::sample(double value, MetricLabels labels) {
  if (std::isnan(value)) return line("NaN", labels);
  if (std::isinf(value)) return line(value > 0 ? "+Inf" : "-Inf", labels);
  // The shortest of 15 to 17 digits that reads back as the same double: 0.1, not
  // 0.10000000000000001.
  char number[32];
  for (int digits = 15; digits <= 17; ++digits) {
    std::snprintf(number, sizeof number, "%.*g", digits, value);
    if (std::strtod(number, nullptr) == value) break;
  }
  return line(number, labels);
}

MetricsText& MetricsText::sample(std::uint64_t value, MetricLabels labels) {
  return line(std::to_string(value), labels);
}

MetricsText& MetricsText::sample(std::int64_t value, MetricLabels labels) {
  return line(std::to_string(value), labels);
}

MetricsText& MetricsText::line(std::string_view value, MetricLabels labels) {
  text_ += name_;
  if (labels.size() != 0) {
    text_ += '{';
    bool first = true;
    for (const auto& [label, label_value] : labels) {
      if (!first) text_ += ',';
      first = false;
      text_ += label;
      text_ += "=\"" + escaped(label_value, true) + "\"";
    }
    text_ += '}';
  }
  text_ += ' ';
  text_ += value;
  text_ += '\n';
  return *this;
}

}  // namespace pushcgi
