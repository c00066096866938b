#include "pushcgi/redis_subscriber.hpp"

#include "../sources/redis_source.hpp"
#include "pushcgi/log.hpp"

namespace pushcgi {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Parsed<std::unique_ptr<RedisSubscriber>> RedisSubscriber::create_erased(
    detail::HubCore& hub, std::string_view url, const SourceOptions& options,
    std::chrono::milliseconds linger, OnMessage on_message) {
  using Result = Parsed<std::unique_ptr<RedisSubscriber>>;
  // The source itself, not make_source(): that would link every source (libcurl, exec:).
  Parsed<detail::RedisEndpoint> endpoint = detail::parse_redis_url(url);
  if (!endpoint) return Result::failure(endpoint.error());
  auto source = std::make_unique<detail::RedisSource>(std::move(endpoint.value()), options);
  return Result(std::unique_ptr<RedisSubscriber>(
      new RedisSubscriber(hub, std::move(source), linger, std::move(on_message))));
}

RedisSubscriber::RedisSubscriber(detail::HubCore& hub, std::unique_ptr<FrameSource> source,
                                 std::chrono::milliseconds linger, OnMessage on_message)
    : hub_(hub), source_(std::move(source)), linger_(linger), on_message_(std::move(on_message)) {
  hub_.on_change([this](unsigned viewers) {
    const std::lock_guard<std::mutex> lock(mutex_);
    viewers_ = viewers;
    changed_.notify_all();
  });
  thread_ = std::thread([this] { control(); });
}

RedisSubscriber::~RedisSubscriber() {
  hub_.on_change(nullptr);
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
    changed_.notify_all();
  }
  thread_.join();
  source_->stop();
}

// Starts the subscription with the first viewer, stops it linger after the last.
void RedisSubscriber::control() {
  std::unique_lock<std::mutex> lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return stopping_ || viewers_ > 0; });
    if (stopping_) return;
    running_ = true;
    ++starts_;
    lock.unlock();
    log(LogLevel::info, "starting the subscription: " + source_->log_name());
    source_->start([this](std::string message) {
      {
        const std::lock_guard<std::mutex> counted(mutex_);
        ++messages_;
      }
      on_message_(std::move(message));
    });
    lock.lock();
    for (;;) {
      changed_.wait(lock, [this] { return stopping_ || viewers_ == 0; });
      if (stopping_) break;
      // Nobody watches: linger, unless a viewer comes back meanwhile.
      if (!changed_.wait_for(lock, linger_, [this] { return stopping_ || viewers_ > 0; })) break;
      if (stopping_) break;
    }
    lock.unlock();
    source_->stop();
    log(LogLevel::info, "stopped the subscription: " + source_->log_name() + " (nobody watches)");
    lock.lock();
    running_ = false;
    if (stopping_) return;
  }
}

SourceStatus RedisSubscriber::status() const {
  SourceStatus status;
  status.describe = source_->describe();
  status.problem = source_->status();
  status.incidents = source_->incidents();
  const std::lock_guard<std::mutex> lock(mutex_);
  status.running = running_;
  status.starts = starts_;
  status.frames_in = messages_;
  return status;
}

}  // namespace pushcgi
