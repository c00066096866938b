// One line per event on standard error: "TIME PROGRAM[PID] LEVEL: message". Each line is one
// write(2), so lines from many threads do not interleave.
#pragma once

#include <optional>
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

}  // namespace pushcgi
