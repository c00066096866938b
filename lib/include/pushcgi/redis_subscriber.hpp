// Takes a hub's values from a Redis channel that another host publishes to (RedisPublisher):
// one subscription for all the hub's viewers, held only while it has any (and `linger`
// after the last one leaves), each message handed to on_message on the subscription's
// thread, which decodes it and publishes it to the hub. For a camera's frames use
// make_source("redis://...") and SourceRunner instead, which check every JPEG.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "pushcgi/error.hpp"
#include "pushcgi/hub.hpp"
#include "pushcgi/source_runner.hpp"
#include "pushcgi/sources/source.hpp"

namespace pushcgi {

class RedisSubscriber {
 public:
  using OnMessage = std::function<void(std::string message)>;

  // url: as make_source() takes it (redis:// or redis+unix://), never quoted in the reason
  // it is refused for. options: source_timeout (a quiet channel), camera (log lines).
  template <typename T>
  static Parsed<std::unique_ptr<RedisSubscriber>> create(Hub<T>& hub, std::string_view url,
                                                         const SourceOptions& options,
                                                         std::chrono::milliseconds linger,
                                                         OnMessage on_message) {
    return create_erased(hub.core(), url, options, linger, std::move(on_message));
  }
  ~RedisSubscriber();
  RedisSubscriber(const RedisSubscriber&) = delete;
  RedisSubscriber& operator=(const RedisSubscriber&) = delete;

  // describe, running, starts, frames_in (messages), problem and incidents.
  SourceStatus status() const;

 private:
  static Parsed<std::unique_ptr<RedisSubscriber>> create_erased(detail::HubCore& hub,
                                                                std::string_view url,
                                                                const SourceOptions& options,
                                                                std::chrono::milliseconds linger,
                                                                OnMessage on_message);
  RedisSubscriber(detail::HubCore& hub, std::unique_ptr<FrameSource> source,
                  std::chrono::milliseconds linger, OnMessage on_message);
  void control();

  detail::HubCore& hub_;
  std::unique_ptr<FrameSource> source_;
  const std::chrono::milliseconds linger_;
  const OnMessage on_message_;
  mutable std::mutex mutex_;  // guards everything below
  std::condition_variable changed_;
  unsigned viewers_ = 0;
  bool running_ = false;
  bool stopping_ = false;
  unsigned starts_ = 0;
  std::uint64_t messages_ = 0;
  std::thread thread_;  // last: starts after everything it uses
};

}  // namespace pushcgi
