// The Redis source on its own, for what needs it without the other sources (ps.fcgi's
// RedisSubscriber): no libcurl, no exec.
#pragma once

#include <string>

#include "../redis/redis_connection.hpp"
#include "pushcgi/sources/source.hpp"

namespace pushcgi::detail {

// The frames published on a Redis channel (pub/sub), each message one whole JPEG: one
// subscription for every viewer of this program, held only while the source runs. Lost
// connections are retried with the exec: backoff; a channel quiet for source_timeout (the
// publisher stopped) is an incident told in /state while the subscription stays, so that
// the publisher's return is heard at once. The password is never shown.
class RedisSource : public ThreadedSource {
 public:
  RedisSource(RedisEndpoint endpoint, const SourceOptions& options);
  std::string default_description() const override;

 private:
  struct Ending {
    bool stopping = false;
    bool healthy = false;  // frames came for Backoff::kHealthyRun
    std::string reason;
  };
  void run() override;
  // One subscription, until it breaks, goes quiet for source_timeout, or the source stops.
  Ending subscribe();
  RedisEndpoint endpoint_;
  SourceOptions options_;
};

}  // namespace pushcgi::detail
