// Publishes a hub's values on a Redis channel (pub/sub), for the programs on other hosts
// that show them (--source redis://...): a camera's frames, each message one whole JPEG and
// nothing else (so that any subscriber, down to redis-cli, can read it), or a process list.
// The producer runs only while some program somewhere subscribes: the publisher asks Redis
// how many subscribe to the channel (PUBSUB NUMSUB) every second, and watches the hub like
// one more viewer while there are any (the hub's producer starts and stops as for any
// viewer).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "pushcgi/error.hpp"
#include "pushcgi/hub.hpp"
#include "pushcgi/json.hpp"
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

// Its /state object: describe, connected, subscribers, `published` (the count of values
// published, under the name the program gives them), problem, incidents, last_incident.
JsonObject to_json(const PublisherStatus& status, std::string_view published);

class RedisPublisher {
 public:
  // How often the subscribers are counted.
  static constexpr std::chrono::seconds kCountEvery{1};

  // url: redis://[USER:PASSWORD@]HOST[:PORT]/CHANNEL or redis+unix:///PATH?channel=CHANNEL;
  // the reason, never quoting the URL, when it is not one. log_name: what log lines call it.
  // A camera's frames: each message is the frame's JPEG.
  // netrc_file: the password, when the URL holds none (see RedisEndpoint).
  static Parsed<std::unique_ptr<RedisPublisher>> create(Hub<Frame>& hub, std::string_view url,
                                                        std::string log_name,
                                                        std::string netrc_file = {});
  // Any hub's values, each message encode(value); period: how often this viewer wants a
  // value (a periodic producer runs at least that often while it publishes).
  template <typename T>
  static Parsed<std::unique_ptr<RedisPublisher>> create(
      Hub<T>& hub, std::string_view url, std::string log_name,
      std::function<std::string(const T&)> encode,
      std::chrono::steady_clock::duration period = std::chrono::steady_clock::duration::zero(),
      std::string netrc_file = {}) {
    return create_erased(
        hub.core(), url, std::move(log_name),
        [encode = std::move(encode)](const void* value) {
          return encode(*static_cast<const T*>(value));
        },
        period, std::move(netrc_file));
  }
  // "" or why url is not one of the URLs above (never quoting it).
  static std::string check_url(std::string_view url);
  // Both are Redis URLs of the same channel on the same server: a program that subscribed
  // to its own channel would publish every value it received again, forever.
  static bool same_channel(std::string_view a, std::string_view b);
  ~RedisPublisher();  // stops and joins
  RedisPublisher(const RedisPublisher&) = delete;
  RedisPublisher& operator=(const RedisPublisher&) = delete;

  PublisherStatus status() const;

 private:
  using Encode = std::function<std::string(const void*)>;
  static Parsed<std::unique_ptr<RedisPublisher>> create_erased(
      detail::HubCore& hub, std::string_view url, std::string log_name, Encode encode,
      std::chrono::steady_clock::duration period, std::string netrc_file);
  RedisPublisher(detail::HubCore& hub, std::unique_ptr<detail::RedisEndpoint> endpoint,
                 std::string log_name, Encode encode, std::chrono::steady_clock::duration period);
  void run();
  // One connection, until it fails or the publisher stops; "" when stopping.
  std::string publish();
  // A failure: the problem until the retry, and an incident.
  void record(const std::string& what, std::chrono::seconds retry);

  detail::HubCore& hub_;
  std::unique_ptr<detail::RedisEndpoint> endpoint_;
  const Encode encode_;
  const std::chrono::steady_clock::duration period_;
  const std::string log_name_;
  int stop_fd_;
  mutable std::mutex mutex_;  // guards status_
  PublisherStatus status_;
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace pushcgi
