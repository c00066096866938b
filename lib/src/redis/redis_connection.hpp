// One connection to a Redis server through hiredis's reader and writer on a non-blocking
// socket, so that every wait also watches a stop descriptor and a deadline: a source or a
// publisher stops at once whatever Redis does. Failures come back in words that never hold
// the password.
#pragma once

#include <hiredis/hiredis.h>

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/sources/source.hpp"

namespace pushcgi::detail {

// redis://[USER:PASSWORD@]HOST[:PORT]/CHANNEL or redis+unix://[USER:PASSWORD@]/PATH?channel=CHANNEL
struct RedisEndpoint {
  std::string host;  // "" for a unix socket
  int port = 6379;
  std::string socket_path;
  std::string user;  // "" for Redis's default user
  std::string password;
  std::string channel;
  // A .netrc file (machine HOST login USER password PASSWORD; for a unix socket, machine
  // is its path) read at each connection when the URL holds no password: a password on a
  // command line is readable by every local user. "" for none.
  std::string netrc_file;
  // redis://HOST:PORT/CHANNEL or redis+unix:PATH?channel=CHANNEL: never the credentials.
  std::string describe() const;
};

// The endpoint of a redis:// or redis+unix:// URL, or a one-line reason it is not one (which
// never quotes the URL: it may hold a password).
Parsed<RedisEndpoint> parse_redis_url(std::string_view url);

struct ReplyDeleter {
  void operator()(redisReply* reply) const { freeReplyObject(reply); }
};
using RedisReply = std::unique_ptr<redisReply, ReplyDeleter>;

class RedisConnection {
 public:
  using Clock = std::chrono::steady_clock;
  // How a wait ended.
  enum class Wait { ready, stopping, timeout, failed };

  RedisConnection() = default;
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Connects and, with a password, authenticates (AUTH [user] password); "" or the reason.
  // A stop shows as Wait::stopping from stopped().
  std::string open(const RedisEndpoint& at, int stop_fd, Clock::time_point deadline);
  void close();
  bool stopped() const { return stopped_; }

  // Sends one command of binary-safe words; "" or the reason.
  std::string send(const std::vector<std::string_view>& words, int stop_fd,
                   Clock::time_point deadline);
  // The next reply into reply; on failed, reason() says why.
  Wait read(RedisReply& reply, int stop_fd, Clock::time_point deadline);
  // A reply already read from the socket and complete, without waiting; false if none.
  bool take_buffered(RedisReply& reply);
  const std::string& reason() const { return reason_; }

 private:
  Wait wait_for(short events, int stop_fd, Clock::time_point deadline);
  std::string lost();  // words for a connection that broke

  redisContext* context_ = nullptr;
  std::string reason_;
  bool stopped_ = false;
};

}  // namespace pushcgi::detail
