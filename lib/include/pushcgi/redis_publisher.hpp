// Publishes a camera's frames on a Redis channel (pub/sub), for the web servers that show
// the camera with --source redis://...: each message is one whole JPEG and nothing else, so
// that any subscriber, down to redis-cli, can read it. The camera's source runs only while
// some server somewhere subscribes: the publisher asks Redis how many subscribe to the
// channel (PUBSUB NUMSUB) every second, and watches the hub like one more viewer while there
// are any (SourceRunner starts and stops the source as for any viewer).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "pushcgi/error.hpp"
#include "pushcgi/hub.hpp"
#include "pushcgi/source_runner.hpp"

namespace pushcgi {

namespace detail {
struct RedisEndpoint;
}

struct PublisherStatus {
  std::string describe;  // redis://HOST:PORT/CHANNEL: never the password
  bool connected = false;
  long subscribers = 0;  // on the channel, at the last count
  std::uint64_t frames_published = 0;
  std::string problem;  // "" while all is well
  SourceIncidents incidents;
};

class RedisPublisher {
 public:
  // How often the subscribers are counted.
  static constexpr std::chrono::seconds kCountEvery{1};

  // url: redis://[USER:PASSWORD@]HOST[:PORT]/CHANNEL or redis+unix:///PATH?channel=CHANNEL;
  // the reason, never quoting the URL, when it is not one. log_name: what log lines call it.
  static Parsed<std::unique_ptr<RedisPublisher>> create(Hub<Frame>& hub, std::string_view url,
                                                        std::string log_name);
  // "" or why url is not one of the URLs above (never quoting it).
  static std::string check_url(std::string_view url);
  ~RedisPublisher();  // stops and joins
  RedisPublisher(const RedisPublisher&) = delete;
  RedisPublisher& operator=(const RedisPublisher&) = delete;

  PublisherStatus status() const;

 private:
  RedisPublisher(Hub<Frame>& hub, std::unique_ptr<detail::RedisEndpoint> endpoint,
                 std::string log_name);
  void run();
  // One connection, until it fails or the publisher stops; "" when stopping.
  std::string publish();
  void record(const std::string& problem);

  Hub<Frame>& hub_;
  std::unique_ptr<detail::RedisEndpoint> endpoint_;
  const std::string log_name_;
  int stop_fd_;
  mutable std::mutex mutex_;  // guards status_
  PublisherStatus status_;
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace pushcgi
