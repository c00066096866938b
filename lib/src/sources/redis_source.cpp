#include "redis_source.hpp"

#include <utility>

#include "backoff.hpp"
#include "pushcgi/log.hpp"

namespace pushcgi::detail {

namespace {

using Clock = std::chrono::steady_clock;

// A subscriber's first words: connect, authenticate and subscribe within this.
constexpr std::chrono::seconds kSubscribeTimeout{10};

// ["message", channel, payload]: a frame; anything else (a pong) is not.
bool is_message(const redisReply& reply) {
  return reply.type == REDIS_REPLY_ARRAY && reply.elements == 3 &&
         reply.element[0]->type == REDIS_REPLY_STRING &&
         reply.element[2]->type == REDIS_REPLY_STRING &&
         std::string_view(reply.element[0]->str, reply.element[0]->len) == "message";
}

}  // namespace

RedisSource::RedisSource(RedisEndpoint endpoint, const SourceOptions& options)
    : ThreadedSource(options), endpoint_(std::move(endpoint)), options_(options) {
  if (endpoint_.netrc_file.empty()) endpoint_.netrc_file = options.netrc_file;
}

std::string RedisSource::default_description() const {
  return endpoint_.describe();
}

void RedisSource::run() {
  Backoff backoff;
  for (;;) {
    const Ending end = subscribe();
    if (end.stopping) return;
    log(LogLevel::warning, log_name() + ": " + end.reason);
    const std::chrono::seconds delay = backoff.next(end.healthy);
    record_failure(end.reason, end.reason + "; retry in " + std::to_string(delay.count()) + " s");
    if (!wait_until(Clock::now() + delay)) return;
  }
}

RedisSource::Ending RedisSource::subscribe() {
  Ending end;
  RedisConnection redis;
  const auto subscribe_by = Clock::now() + kSubscribeTimeout;
  end.reason = redis.open(endpoint_, stop_fd(), subscribe_by);
  if (end.reason.empty()) {
    end.reason = redis.send({"SUBSCRIBE", endpoint_.channel}, stop_fd(), subscribe_by);
  }
  if (redis.stopped()) {
    end.stopping = true;
    return end;
  }
  if (!end.reason.empty()) return end;
  RedisReply reply;
  switch (redis.read(reply, stop_fd(), subscribe_by)) {
    case RedisConnection::Wait::stopping:
      end.stopping = true;
      return end;
    case RedisConnection::Wait::timeout:
      end.reason = "Redis did not confirm the subscription";
      return end;
    case RedisConnection::Wait::failed:
      end.reason = redis.reason();
      return end;
    case RedisConnection::Wait::ready:
      break;
  }
  if (reply->type == REDIS_REPLY_ERROR) {
    // NOAUTH without a password, NOPERM for a user the ACL keeps off the channel.
    const std::string text(reply->str, reply->len);
    end.reason = "Redis refused SUBSCRIBE (" + text.substr(0, text.find(' ')) + ")";
    return end;
  }
  set_status({});
  log(LogLevel::info, log_name() + ": subscribed");
  const auto subscribed = Clock::now();
  auto last_frame = subscribed;
  auto deadline = subscribed + options_.source_timeout;
  std::uint64_t frames = 0;
  // A quiet channel (the publisher stopped, or went away) is not a broken connection: the
  // subscription stays, so that a publisher that comes back is heard at once; a PING shows
  // that Redis is still there (a connection that died without a word would not say so).
  bool quiet = false;
  bool ping_sent = false;
  const std::string timeout = std::to_string(options_.source_timeout.count()) + " s";
  for (;;) {
    const RedisConnection::Wait wait = redis.read(reply, stop_fd(), deadline);
    end.healthy = frames > 0 && last_frame - subscribed >= Backoff::kHealthyRun;
    if (wait == RedisConnection::Wait::stopping) {
      end.stopping = true;
      return end;
    }
    if (wait == RedisConnection::Wait::failed) {
      end.reason = redis.reason();
      return end;
    }
    if (wait == RedisConnection::Wait::timeout) {
      if (ping_sent) {
        end.reason = "Redis did not answer in " + timeout;
        return end;
      }
      if (!quiet) {
        quiet = true;
        const std::string what = "no frame on the channel for " + timeout;
        log(LogLevel::warning, log_name() + ": " + what);
        record_failure(what, what);
      }
      end.reason = redis.send({"PING"}, stop_fd(), Clock::now() + options_.source_timeout);
      if (redis.stopped()) {
        end.stopping = true;
        return end;
      }
      if (!end.reason.empty()) return end;
      ping_sent = true;
      deadline = Clock::now() + options_.source_timeout;
      continue;
    }
    ping_sent = false;  // any reply: Redis is there
    if (!is_message(*reply)) {
      continue;
    }
    // Frames that came while this thread could not run are all in the reader already:
    // only the newest is handed over, the others counted (newest wins, as for any viewer).
    std::uint64_t behind = 0;
    for (RedisReply next; redis.take_buffered(next);) {
      if (is_message(*next)) {
        ++behind;
        reply = std::move(next);
      }
    }
    if (behind > 0) drop("older than a frame that came with it (the server fell behind)", behind);
    last_frame = Clock::now();
    deadline = last_frame + options_.source_timeout;
    ++frames;
    if (quiet) {
      quiet = false;
      set_status({});
      log(LogLevel::info, log_name() + ": frames again");
    }
    const redisReply& payload = *reply->element[2];
    if (payload.len > options_.max_frame_bytes) {
      drop("a frame larger than --max-frame-kib");
      continue;
    }
    // Checked by the caller (SourceRunner), as every source's frames.
    emit(std::string(payload.str, payload.len));
  }
}

}  // namespace pushcgi::detail
