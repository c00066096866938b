#include "support/redis_server.hpp"

#include <cstdlib>
#include <stdexcept>
#include <thread>

#include "support/http_client.hpp"

namespace pushcgi::test {

RedisServer::RedisServer(std::vector<std::string> more)
    : port_(free_port()), more_(std::move(more)) {
  if (!start()) throw std::runtime_error("redis-server did not answer PING in 10 s");
}

bool RedisServer::start() {
  stop();
  std::vector<std::string> argv = {"/usr/bin/redis-server",
                                   "--port",
                                   std::to_string(port_),
                                   "--bind",
                                   "127.0.0.1",
                                   "--unixsocket",
                                   socket_path(),
                                   "--save",
                                   "",
                                   "--appendonly",
                                   "no",
                                   "--dir",
                                   dir_.path()};
  argv.insert(argv.end(), more_.begin(), more_.end());
  SpawnOptions options;
  options.stderr_path = dir_.file("redis.log");
  process_ = Process(argv, options);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    const std::string pong = cli({"PING"});
    if (pong.find("PONG") != std::string::npos || pong.find("NOAUTH") != std::string::npos) {
      return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::string RedisServer::url(const std::string& channel, const std::string& credentials) const {
  return "redis://" + (credentials.empty() ? "" : credentials + "@") +
         "127.0.0.1:" + std::to_string(port_) + "/" + channel;
}

long RedisServer::subscribers(const std::string& channel) const {
  const std::string out = cli({"PUBSUB", "NUMSUB", channel});  // "CHANNEL\nN\n"
  const std::size_t line = out.find('\n');
  return line == std::string::npos ? -1 : std::atol(out.c_str() + line + 1);
}

std::string RedisServer::cli(const std::vector<std::string>& command,
                             const std::string& password) const {
  std::vector<std::string> argv = {"/usr/bin/redis-cli", "-p", std::to_string(port_)};
  if (!password.empty()) {
    argv.insert(argv.end(), {"--no-auth-warning", "-a", password});
  }
  argv.insert(argv.end(), command.begin(), command.end());
  return run_program(argv, std::chrono::seconds(5)).out;
}

}  // namespace pushcgi::test
