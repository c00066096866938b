#include "snapshot_codec.hpp"

#include <charconv>
#include <cstdio>
#include <vector>

namespace pushcgi {

namespace {

constexpr std::string_view kMagic = "pushcgi-ps 1 ";

void append_escaped(std::string& out, std::string_view text) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

std::optional<std::string> unescaped(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\') {
      out += text[i];
      continue;
    }
    if (++i == text.size()) return std::nullopt;
    if (text[i] == '\\') {
      out += '\\';
    } else if (text[i] == 't') {
      out += '\t';
    } else if (text[i] == 'n') {
      out += '\n';
    } else {
      return std::nullopt;
    }
  }
  return out;
}

template <typename T>
bool parse_number(std::string_view text, T& value) {
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size();
}

bool parse_double(std::string_view text, double& value) {
  // from_chars for double is not in GCC 10's library on every target this builds for.
  std::string copy(text);
  char* end = nullptr;
  value = std::strtod(copy.c_str(), &end);
  return !copy.empty() && end == copy.c_str() + copy.size();
}

std::vector<std::string_view> split(std::string_view line, char separator) {
  std::vector<std::string_view> fields;
  std::size_t start = 0;
  for (;;) {
    const std::size_t end = line.find(separator, start);
    fields.push_back(line.substr(start, end - start));
    if (end == std::string_view::npos) return fields;
    start = end + 1;
  }
}

}  // namespace

std::string encode_snapshot(const ProcessSnapshot& snapshot) {
  const auto taken =
      std::chrono::duration_cast<std::chrono::microseconds>(snapshot.taken.time_since_epoch())
          .count();
  char number[64];
  std::snprintf(number, sizeof number, "%.6f", snapshot.interval_seconds);
  std::string out = std::string(kMagic) + std::to_string(taken) + " " + number + "\n";
  for (const ProcessInfo& process : snapshot.processes) {
    std::snprintf(number, sizeof number, "%.3f", process.cpu_percent);
    out += std::to_string(process.pid) + "\t" + std::to_string(process.ppid) + "\t";
    append_escaped(out, process.user);
    out += std::string("\t") + process.state + "\t" + number + "\t" +
           std::to_string(process.rss_bytes) + "\t" + std::to_string(process.start_time) + "\t";
    append_escaped(out, process.name);
    out += "\t";
    append_escaped(out, process.args);
    out += "\n";
  }
  return out;
}

std::optional<ProcessSnapshot> decode_snapshot(std::string_view message) {
  if (message.rfind(kMagic, 0) != 0 || message.empty() || message.back() != '\n') {
    return std::nullopt;
  }
  message.remove_suffix(1);
  std::vector<std::string_view> lines = split(message, '\n');
  const std::vector<std::string_view> head = split(lines.front().substr(kMagic.size()), ' ');
  ProcessSnapshot snapshot;
  long long taken = 0;
  if (head.size() != 2 || !parse_number(head[0], taken) ||
      !parse_double(head[1], snapshot.interval_seconds)) {
    return std::nullopt;
  }
  snapshot.taken = std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(taken)));
  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::vector<std::string_view> fields = split(lines[i], '\t');
    ProcessInfo process;
    std::optional<std::string> user;
    std::optional<std::string> name;
    std::optional<std::string> args;
    if (fields.size() != 9 || !parse_number(fields[0], process.pid) ||
        !parse_number(fields[1], process.ppid) || !(user = unescaped(fields[2])) ||
        fields[3].size() != 1 || !parse_double(fields[4], process.cpu_percent) ||
        !parse_number(fields[5], process.rss_bytes) ||
        !parse_number(fields[6], process.start_time) || !(name = unescaped(fields[7])) ||
        !(args = unescaped(fields[8]))) {
      return std::nullopt;
    }
    process.state = fields[3][0];
    process.user = std::move(*user);
    process.name = std::move(*name);
    process.args = std::move(*args);
    snapshot.processes.push_back(std::move(process));
  }
  return snapshot;
}

}  // namespace pushcgi
