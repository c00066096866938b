#include "redis_connection.hpp"

#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <tuple>
#include <utility>
#include <vector>

namespace pushcgi::detail {

namespace {

// %XX escapes in the user-info (a password may hold '@' or ':').
Parsed<std::string> percent_decoded(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size() || std::isxdigit(static_cast<unsigned char>(text[i + 1])) == 0 ||
        std::isxdigit(static_cast<unsigned char>(text[i + 2])) == 0) {
      return Parsed<std::string>::failure(
          "a % in the user or password not followed by two hex digits");
    }
    out += static_cast<char>(std::stoi(std::string(text.substr(i + 1, 2)), nullptr, 16));
    i += 2;
  }
  return out;
}

bool visible(std::string_view text) {
  return std::all_of(text.begin(), text.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

std::string lower_errno_text(int error) {
  std::string text = std::strerror(error);
  if (!text.empty()) text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
  return text;
}

}  // namespace

std::string RedisEndpoint::describe() const {
  if (!socket_path.empty()) return "redis+unix:" + socket_path + "?channel=" + channel;
  return "redis://" + host + ":" + std::to_string(port) + "/" + channel;
}

Parsed<RedisEndpoint> parse_redis_url(std::string_view url) {
  using Result = Parsed<RedisEndpoint>;
  RedisEndpoint at;
  const bool unix_socket = url.rfind("redis+unix://", 0) == 0;
  if (!unix_socket && url.rfind("redis://", 0) != 0) {
    return Result::failure(
        "expected redis://HOST[:PORT]/CHANNEL or redis+unix:///PATH?channel=CHANNEL");
  }
  std::string_view rest = url.substr(unix_socket ? 13 : 8);
  if (!visible(rest)) return Result::failure("a Redis URL of spaces or control characters");
  // User-info only before the host's end: a channel or socket path may hold '@' ('/' and '@'
  // in a password are written %2F and %40).
  const std::size_t host_end = rest.find('/');
  if (const std::size_t at_sign = rest.substr(0, host_end).rfind('@');
      at_sign != std::string_view::npos) {
    const std::string_view user_info = rest.substr(0, at_sign);
    rest = rest.substr(at_sign + 1);
    const std::size_t colon = user_info.find(':');
    Parsed<std::string> user = percent_decoded(user_info.substr(0, colon));
    Parsed<std::string> password =
        percent_decoded(colon == std::string_view::npos ? "" : user_info.substr(colon + 1));
    if (!user) return Result::failure(user.error());
    if (!password) return Result::failure(password.error());
    at.user = *user;
    at.password = *password;
    // redis://:PASSWORD@ and redis://PASSWORD@ (no colon) both mean the default user.
    if (colon == std::string_view::npos) std::swap(at.user, at.password);
    if (at.password.empty()) return Result::failure("a Redis user without a password");
  }
  if (unix_socket) {
    const std::size_t query = rest.find("?channel=");
    if (rest.empty() || rest[0] != '/' || query == std::string_view::npos) {
      return Result::failure("expected redis+unix:///PATH/TO/SOCKET?channel=CHANNEL");
    }
    at.socket_path = std::string(rest.substr(0, query));
    at.channel = std::string(rest.substr(query + 9));
  } else {
    const std::size_t slash = rest.find('/');
    if (slash == std::string_view::npos) return Result::failure("a Redis URL without /CHANNEL");
    std::string_view host = rest.substr(0, slash);
    at.channel = std::string(rest.substr(slash + 1));
    if (const std::size_t colon = host.rfind(':');
        colon != std::string_view::npos && host.find(']', colon) == std::string_view::npos) {
      const std::string_view port = host.substr(colon + 1);
      if (port.empty() || port.size() > 5 ||
          !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
          std::stoi(std::string(port)) < 1 || std::stoi(std::string(port)) > 65535) {
        return Result::failure("a Redis port that is not 1 to 65535");
      }
      at.port = std::stoi(std::string(port));
      host = host.substr(0, colon);
    }
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
      host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) return Result::failure("a Redis URL without a host");
    at.host = std::string(host);
  }
  if (at.channel.empty() || at.channel.size() > 256) {
    return Result::failure("a Redis channel of 1 to 256 characters");
  }
  return at;
}

namespace {

// The login and password of machine in a .netrc file (its tokens: machine, login,
// password, default; macdef and account are skipped); nothing if it has none.
std::optional<std::pair<std::string, std::string>> netrc_entry(const std::string& path,
                                                               const std::string& machine) {
  std::ifstream file(path);
  std::vector<std::string> tokens;
  for (std::string token; file >> token;) tokens.push_back(token);
  std::optional<std::pair<std::string, std::string>> found;
  bool mine = false;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    const bool has_value = i + 1 < tokens.size();
    if (token == "machine" && has_value) {
      if (found) return found;
      mine = tokens[++i] == machine;
      if (mine) found.emplace();
    } else if (token == "default") {
      if (found) return found;
      mine = true;
      found.emplace();
    } else if ((token == "login" || token == "password" || token == "account") && has_value) {
      const std::string& value = tokens[++i];
      if (mine && token == "login") found->first = value;
      if (mine && token == "password") found->second = value;
    }
  }
  return found;
}

}  // namespace

RedisConnection::~RedisConnection() {
  close();
}

void RedisConnection::close() {
  if (context_ != nullptr) redisFree(context_);
  context_ = nullptr;
}

RedisConnection::Wait RedisConnection::wait_for(short events, int stop_fd,
                                                Clock::time_point deadline) {
  for (;;) {
    // Past the deadline, what is there already still counts (a program that was stopped,
    // or starved of CPU, has data waiting): one look without waiting.
    const auto left = std::max(deadline - Clock::now(), Clock::duration::zero());
    pollfd fds[2] = {{context_->fd, events, 0}, {stop_fd, POLLIN, 0}};
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(left).count();
    const int ready = ::poll(fds, 2, static_cast<int>(std::min<long long>(ms, 1000)));
    if (ready < 0 && errno != EINTR) {
      reason_ = "poll: " + lower_errno_text(errno);
      return Wait::failed;
    }
    if (fds[1].revents != 0) {
      stopped_ = true;
      return Wait::stopping;
    }
    if (ready > 0 && fds[0].revents != 0) return Wait::ready;
    if (Clock::now() >= deadline) return Wait::timeout;
  }
}

std::string RedisConnection::lost() {
  if (context_->err == REDIS_ERR_EOF) return "Redis closed the connection";
  if (context_->err == REDIS_ERR_IO && errno != 0) {
    return "lost the connection to Redis: " + lower_errno_text(errno);
  }
  return "lost the connection to Redis";
}

std::string RedisConnection::open(const RedisEndpoint& at, int stop_fd,
                                  Clock::time_point deadline) {
  close();
  stopped_ = false;
  context_ = at.socket_path.empty() ? redisConnectNonBlock(at.host.c_str(), at.port)
                                    : redisConnectUnixNonBlock(at.socket_path.c_str());
  if (context_ == nullptr) return "cannot connect to Redis: out of memory";
  if (context_->err != 0) {
    const int error = errno;
    return "cannot connect to Redis: " + (context_->err == REDIS_ERR_IO
                                              ? lower_errno_text(error)
                                              : std::string(context_->errstr));
  }
  const Wait connected = wait_for(POLLOUT, stop_fd, deadline);
  if (connected == Wait::stopping) return "stopping";
  if (connected == Wait::timeout) return "cannot connect to Redis: no answer";
  if (connected == Wait::failed) return "cannot connect to Redis: " + reason_;
  int error = 0;
  socklen_t size = sizeof error;
  if (::getsockopt(context_->fd, SOL_SOCKET, SO_ERROR, &error, &size) != 0 || error != 0) {
    return "cannot connect to Redis: " + lower_errno_text(error != 0 ? error : errno);
  }
  std::string user = at.user;
  std::string password = at.password;
  if (password.empty() && !at.netrc_file.empty()) {
    if (auto entry =
            netrc_entry(at.netrc_file, at.socket_path.empty() ? at.host : at.socket_path)) {
      std::tie(user, password) = *entry;
    }
  }
  if (password.empty()) return {};
  std::vector<std::string_view> auth = {"AUTH"};
  if (!user.empty()) auth.emplace_back(user);
  auth.emplace_back(password);
  if (std::string failed = send(auth, stop_fd, deadline); !failed.empty()) return failed;
  RedisReply reply;
  const Wait answered = read(reply, stop_fd, deadline);
  if (answered == Wait::stopping) return "stopping";
  if (answered == Wait::timeout) return "Redis did not answer AUTH";
  if (answered == Wait::failed) return reason_;
  if (reply->type == REDIS_REPLY_ERROR) {
    // Its text never holds the password ("WRONGPASS invalid username-password pair").
    const std::string text(reply->str, reply->len);
    const std::string code = text.substr(0, text.find(' '));
    if (code == "WRONGPASS") return "Redis refused the user name or password";
    return "Redis refused AUTH (" + code + ")";
  }
  return {};
}

std::string RedisConnection::send(const std::vector<std::string_view>& words, int stop_fd,
                                  Clock::time_point deadline) {
  std::vector<const char*> argv;
  std::vector<std::size_t> lengths;
  for (std::string_view word : words) {
    argv.push_back(word.data());
    lengths.push_back(word.size());
  }
  if (redisAppendCommandArgv(context_, static_cast<int>(argv.size()), argv.data(),
                             lengths.data()) != REDIS_OK) {
    return "cannot send to Redis: out of memory";
  }
  for (;;) {
    int done = 0;
    if (redisBufferWrite(context_, &done) != REDIS_OK) return lost();
    if (done != 0) return {};
    const Wait writable = wait_for(POLLOUT, stop_fd, deadline);
    if (writable == Wait::stopping) return "stopping";
    if (writable == Wait::timeout) return "Redis took no data for too long";
    if (writable == Wait::failed) return reason_;
  }
}

bool RedisConnection::take_buffered(RedisReply& reply) {
  void* next = nullptr;
  if (redisGetReplyFromReader(context_, &next) != REDIS_OK || next == nullptr) return false;
  reply.reset(static_cast<redisReply*>(next));
  return true;
}

RedisConnection::Wait RedisConnection::read(RedisReply& reply, int stop_fd,
                                            Clock::time_point deadline) {
  for (;;) {
    void* next = nullptr;
    if (redisGetReplyFromReader(context_, &next) != REDIS_OK) {
      reason_ = "Redis sent something that is not its protocol";
      return Wait::failed;
    }
    if (next != nullptr) {
      reply.reset(static_cast<redisReply*>(next));
      return Wait::ready;
    }
    const Wait readable = wait_for(POLLIN, stop_fd, deadline);
    if (readable != Wait::ready) return readable;
    if (redisBufferRead(context_) != REDIS_OK) {
      reason_ = lost();
      return Wait::failed;
    }
  }
}

}  // namespace pushcgi::detail
