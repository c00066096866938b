// A redis-server of its own for a test: on a free loopback port (and a unix socket in its
// scratch directory), no persistence, stopped by its PID with its owner; restartable on
// the same port, as a Redis that goes away and comes back.
#pragma once

#include <string>
#include <vector>

#include "support/process.hpp"

namespace pushcgi::test {

class RedisServer {
 public:
  // more: redis-server options ("--requirepass", "secret").
  explicit RedisServer(std::vector<std::string> more = {});
  ~RedisServer() { stop(); }
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  // Waits until it answers PING; false after 10 s.
  bool start();
  void stop() { process_.stop(); }
  int port() const { return port_; }
  std::string socket_path() const { return dir_.file("redis.sock"); }
  // redis://[credentials@]127.0.0.1:PORT/CHANNEL
  std::string url(const std::string& channel, const std::string& credentials = "") const;
  // redis-cli's answer to a command (its standard output), e.g. {"PUBSUB", "NUMSUB", "cam"}.
  std::string cli(const std::vector<std::string>& command, const std::string& password = "") const;
  // PUBSUB NUMSUB channel: how many subscribe to it; -1 if Redis does not say.
  long subscribers(const std::string& channel) const;

 private:
  TempDir dir_;
  int port_;
  std::vector<std::string> more_;
  Process process_;
};

}  // namespace pushcgi::test
