// One line per event on standard error: "TIME PROGRAM[PID] LEVEL: message". Each line is one
// write(2), so lines from many threads do not interleave.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

namespace pushcgi {

enum class LogLevel { debug, info, warning, error };

std::string_view to_string(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view text);

// Lines below level are dropped (default: info).
void set_log_level(LogLevel level);
LogLevel log_level();
void set_log_program(std::string_view program);

void log(LogLevel level, std::string_view message);

// At most one line per interval for a warning that bad input can repeat thousands of times
// a second (a camera program's broken frames): the first is logged, the next ones within
// the interval are only counted, and the next line logged says how many were left out.
// `what` names them in that count ("dropped frames").
class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;
  LogThrottle(std::string what, Clock::duration interval);

  // The line to log for message at `now`, or nothing if it is to be left out (and counted:
  // `events` is how many the message stands for).
  std::optional<std::string> admit(std::string_view message, Clock::time_point now,
                                   std::uint64_t events = 1);
  // A line with the count left out since the last line logged; nothing if none was.
  std::optional<std::string> take_left_out();

  // admit() at the current time, and log() what it gives.
  void log(LogLevel level, std::string_view message, std::uint64_t events = 1);
  // take_left_out(), and log() what it gives: when the repeating event may be over.
  void flush(LogLevel level);

 private:
  const std::string what_;
  const Clock::duration interval_;
  std::mutex mutex_;  // guards the two below
  std::optional<Clock::time_point> last_logged_;
  std::uint64_t left_out_ = 0;
};

}  // namespace pushcgi
