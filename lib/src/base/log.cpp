#include "pushcgi/log.hpp"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <string>
#include <utility>

namespace pushcgi {

namespace {

std::atomic<LogLevel> g_level{LogLevel::info};
char g_program[64] = "pushcgi";  // set once at start-up, before threads

}  // namespace

std::string_view to_string(LogLevel level) {
  switch (level) {
    case LogLevel::debug:
      return "debug";
    case LogLevel::info:
      return "info";
    case LogLevel::warning:
      return "warning";
    case LogLevel::error:
      return "error";
  }
  return "unknown";
}

std::optional<LogLevel> parse_log_level(std::string_view text) {
  for (LogLevel level : {LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error}) {
    if (text == to_string(level)) return level;
  }
  return std::nullopt;
}

void set_log_level(LogLevel level) {
  g_level = level;
}
LogLevel log_level() {
  return g_level;
}

void set_log_program(std::string_view program) {
  std::snprintf(g_program, sizeof g_program, "%.*s", static_cast<int>(program.size()),
                program.data());
}

void log(LogLevel level, std::string_view message) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char prefix[160];
  const int n = std::snprintf(
      prefix, sizeof prefix, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ %s[%d] %s: ", utc.tm_year + 1900,
      utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis),
      g_program, static_cast<int>(getpid()), to_string(level).data());
  std::string line(prefix, n > 0 ? static_cast<std::size_t>(n) : 0);
  line.append(message).append("\n");
  // A failed write to standard error has nowhere to be reported.
  [[maybe_unused]] const ssize_t written = ::write(STDERR_FILENO, line.data(), line.size());
}

LogThrottle::LogThrottle(std::string what, Clock::duration interval)
    : what_(std::move(what)), interval_(interval) {}

std::optional<std::string> LogThrottle::admit(std::string_view message, Clock::time_point now,
                                              std::uint64_t events) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (last_logged_ && now - *last_logged_ < interval_) {
    left_out_ += events;
    return std::nullopt;
  }
  last_logged_ = now;
  std::string line(message);
  if (left_out_ > 0) {
    line += " (" + what_ + " since the last line: " + std::to_string(left_out_) + " more)";
    left_out_ = 0;
  }
  return line;
}

std::optional<std::string> LogThrottle::take_left_out() {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (left_out_ == 0) return std::nullopt;
  std::string line =
      what_ + " since the last line: " + std::to_string(left_out_) + " more, not logged";
  left_out_ = 0;
  return line;
}

void LogThrottle::log(LogLevel level, std::string_view message, std::uint64_t events) {
  if (const auto line = admit(message, Clock::now(), events)) pushcgi::log(level, *line);
}

void LogThrottle::flush(LogLevel level) {
  if (const auto line = take_left_out()) pushcgi::log(level, *line);
}

}  // namespace pushcgi
