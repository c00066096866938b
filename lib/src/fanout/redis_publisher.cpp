#include "pushcgi/redis_publisher.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <optional>
#include <system_error>

#include "../redis/redis_connection.hpp"
#include "../sources/backoff.hpp"
#include "pushcgi/log.hpp"

namespace pushcgi {

namespace {

using Clock = std::chrono::steady_clock;
using detail::RedisConnection;
using detail::RedisReply;

// Connecting, and any one command, within this.
constexpr std::chrono::seconds kCommandTimeout{10};

}  // namespace

Parsed<std::unique_ptr<RedisPublisher>> RedisPublisher::create(Hub<Frame>& hub,
                                                               std::string_view url,
                                                               std::string log_name,
                                                               std::string netrc_file) {
  return create<Frame>(
      hub, url, std::move(log_name), [](const Frame& frame) { return frame.jpeg; },
      Clock::duration::zero(), std::move(netrc_file));
}

Parsed<std::unique_ptr<RedisPublisher>> RedisPublisher::create_erased(
    detail::HubCore& hub, std::string_view url, std::string log_name, Encode encode,
    std::chrono::steady_clock::duration period, std::string netrc_file) {
  using Result = Parsed<std::unique_ptr<RedisPublisher>>;
  Parsed<detail::RedisEndpoint> endpoint = detail::parse_redis_url(url);
  if (!endpoint) return Result::failure(endpoint.error());
  endpoint.value().netrc_file = std::move(netrc_file);
  return Result(std::unique_ptr<RedisPublisher>(
      new RedisPublisher(hub, std::make_unique<detail::RedisEndpoint>(std::move(endpoint.value())),
                         std::move(log_name), std::move(encode), period)));
}

JsonObject to_json(const PublisherStatus& status, std::string_view published) {
  return JsonObject()
      .string("describe", status.describe)
      .boolean("connected", status.connected)
      .integer("subscribers", status.subscribers)
      .integer(published, status.frames_published)
      .string("problem", status.problem)
      .integer("incidents", status.incidents.count)
      .string("last_incident", status.incidents.last);
}

std::string RedisPublisher::check_url(std::string_view url) {
  return detail::parse_redis_url(url).error();
}

bool RedisPublisher::same_channel(std::string_view a, std::string_view b) {
  const Parsed<detail::RedisEndpoint> first = detail::parse_redis_url(a);
  const Parsed<detail::RedisEndpoint> second = detail::parse_redis_url(b);
  return first && second && first->host == second->host && first->port == second->port &&
         first->socket_path == second->socket_path && first->channel == second->channel;
}

RedisPublisher::RedisPublisher(detail::HubCore& hub,
                               std::unique_ptr<detail::RedisEndpoint> endpoint,
                               std::string log_name, Encode encode,
                               std::chrono::steady_clock::duration period)
    : hub_(hub),
      endpoint_(std::move(endpoint)),
      encode_(std::move(encode)),
      period_(period),
      log_name_(std::move(log_name)),
      stop_fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
  if (stop_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  status_.describe = endpoint_->describe();
  thread_ = std::thread([this] { run(); });
}

RedisPublisher::~RedisPublisher() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t written = ::write(stop_fd_, &one, sizeof one);
  thread_.join();
  ::close(stop_fd_);
}

PublisherStatus RedisPublisher::status() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return status_;
}

void RedisPublisher::record(const std::string& what, std::chrono::seconds retry) {
  const std::lock_guard<std::mutex> lock(mutex_);
  status_.connected = false;
  status_.subscribers = 0;
  status_.problem = what + "; retry in " + std::to_string(retry.count()) + " s";
  status_.incidents.add(what);
}

void RedisPublisher::run() {
  detail::Backoff backoff;
  for (;;) {
    const auto started = Clock::now();
    const std::string failed = publish();
    if (failed.empty()) return;
    log(LogLevel::warning, log_name_ + ": " + failed);
    const std::chrono::seconds delay =
        backoff.next(Clock::now() - started >= detail::Backoff::kHealthyRun);
    record(failed, delay);
    pollfd stop{stop_fd_, POLLIN, 0};
    if (::poll(&stop, 1, static_cast<int>(std::chrono::milliseconds(delay).count())) > 0) return;
  }
}

std::string RedisPublisher::publish() {
  RedisConnection redis;
  const std::string opened = redis.open(*endpoint_, stop_fd_, Clock::now() + kCommandTimeout);
  if (redis.stopped()) return {};
  if (!opened.empty()) return opened;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    status_.connected = true;
    status_.problem.clear();
  }
  log(LogLevel::info, log_name_ + ": connected to Redis");
  // One command and its reply; "" (reply set), "stopping", or the reason.
  RedisReply reply;
  const auto command = [&](std::vector<std::string_view> words) -> std::string {
    const auto deadline = Clock::now() + kCommandTimeout;
    std::string failed = redis.send(words, stop_fd_, deadline);
    if (!failed.empty()) return failed;
    switch (redis.read(reply, stop_fd_, deadline)) {
      case RedisConnection::Wait::ready:
        if (reply->type == REDIS_REPLY_ERROR) {
          const std::string text(reply->str, reply->len);
          return "Redis refused " + std::string(words.front()) + " (" +
                 text.substr(0, text.find(' ')) + ")";
        }
        return {};
      case RedisConnection::Wait::stopping:
        return "stopping";
      case RedisConnection::Wait::timeout:
        return "Redis did not answer " + std::string(words.front()) + " in " +
               std::to_string(kCommandTimeout.count()) + " s";
      case RedisConnection::Wait::failed:
        break;
    }
    return redis.reason();
  };
  std::optional<detail::HubCore::Subscription> viewer;  // while some program subscribes
  auto next_count = Clock::now();
  for (;;) {
    if (Clock::now() >= next_count) {
      std::string failed = command({"PUBSUB", "NUMSUB", endpoint_->channel});
      if (failed == "stopping") return {};
      if (!failed.empty()) return failed;
      // [channel, count]
      long subscribers = 0;
      if (reply->type == REDIS_REPLY_ARRAY && reply->elements == 2 &&
          reply->element[1]->type == REDIS_REPLY_INTEGER) {
        subscribers = static_cast<long>(reply->element[1]->integer);
      }
      {
        const std::lock_guard<std::mutex> lock(mutex_);
        status_.subscribers = subscribers;
      }
      if (subscribers > 0 && !viewer) {
        log(LogLevel::info,
            log_name_ + ": " + std::to_string(subscribers) + " subscriber(s): publishing");
        viewer.emplace(hub_, period_, "redis publisher");
        // What the hub held from before (a camera idle for hours) is no value of now: the
        // first message is one made after the subscribers came, or one this recent.
        viewer->skip_stale(std::max<Clock::duration>(period_, std::chrono::seconds(1)));
      } else if (subscribers == 0 && viewer) {
        log(LogLevel::info, log_name_ + ": no subscriber: not publishing");
        viewer.reset();
      }
      next_count = Clock::now() + kCountEvery;
    }
    pollfd fds[2] = {{stop_fd_, POLLIN, 0}, {viewer ? viewer->notify_fd() : -1, POLLIN, 0}};
    const auto wait = std::chrono::ceil<std::chrono::milliseconds>(next_count - Clock::now());
    if (::poll(fds, 2, static_cast<int>(std::max<long long>(wait.count(), 0))) < 0 &&
        errno != EINTR) {
      return "poll failed";
    }
    if (fds[0].revents != 0) return {};
    if (!viewer) continue;
    viewer->clear_notification();
    if (!viewer->ready()) continue;
    const detail::HubCore::Entry value = viewer->take();
    if (!value.data) continue;
    const std::string message = encode_(value.data.get());
    std::string failed = command({"PUBLISH", endpoint_->channel, message});
    if (failed == "stopping") return {};
    if (!failed.empty()) return failed;
    const std::lock_guard<std::mutex> lock(mutex_);
    ++status_.frames_published;
  }
}

}  // namespace pushcgi
