// Why a stream ended: the text of the line logged and the reason counted in /metrics. The
// same endings for a stream its worker writes to the end (the router logs it) and one an
// event loop writes.
#pragma once

#include "pushcgi/stream_metrics.hpp"

namespace pushcgi::detail {

struct Ending {
  const char* text;
  StreamEnd kind;
};

// A write that fails is a viewer gone wrong (the web server's end of the connection says no
// more); one that finds the connection closed is a viewer who left.
inline constexpr Ending kViewerLeft{"viewer left", StreamEnd::viewer_left};
inline constexpr Ending kClosedByPeer{"closed by the peer", StreamEnd::viewer_left};
inline constexpr Ending kTimeLimit{"time limit", StreamEnd::time_limit};
inline constexpr Ending kShutdown{"shutdown", StreamEnd::shutdown};
inline constexpr Ending kWriteFailed{"write failed", StreamEnd::failed};

}  // namespace pushcgi::detail
