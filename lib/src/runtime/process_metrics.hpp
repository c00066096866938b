// The process figures every Prometheus client library exports under the same names
// (process_cpu_seconds_total, process_resident_memory_bytes, ...), read from /proc/self.
#pragma once

namespace pushcgi {
class MetricsText;
}

namespace pushcgi::detail {

void write_process_metrics(MetricsText& metrics);

}  // namespace pushcgi::detail
