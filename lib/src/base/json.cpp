#include "pushcgi/json.hpp"

#include <cmath>
#include <cstdio>

namespace pushcgi {

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '<':
        out += "\\u003c";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

std::string json_number(double value) {
  if (!std::isfinite(value)) return "0";
  char text[64];
  std::snprintf(text, sizeof text, "%.3f", value);
  std::string out = text;
  while (out.back() == '0') out.pop_back();
  if (out.back() == '.') out.pop_back();
  return out == "-0" ? "0" : out;
}

JsonObject& JsonObject::raw(std::string_view key, std::string_view value) {
  if (!fields_.empty()) fields_ += ',';
  fields_ += json_string(key);
  fields_ += ':';
  fields_ += value;
  return *this;
}

JsonObject& JsonObject::number(std::string_view key, double value) {
  return raw(key, json_number(value));
}

JsonObject& JsonObject::seconds(std::string_view key, std::chrono::duration<double> value) {
  return number(key, value.count());
}

JsonObject& JsonObject::string(std::string_view key, std::string_view value) {
  return raw(key, json_string(value));
}

JsonObject& JsonObject::boolean(std::string_view key, bool value) {
  return raw(key, value ? "true" : "false");
}

JsonObject& JsonObject::null(std::string_view key) {
  return raw(key, "null");
}

JsonObject& JsonObject::object(std::string_view key, const JsonObject& value) {
  return raw(key, value.text());
}

JsonObject& JsonObject::array(std::string_view key, const std::vector<JsonObject>& items) {
  std::string out = "[";
  for (const JsonObject& item : items) {
    if (out.size() > 1) out += ',';
    out += item.text();
  }
  return raw(key, out + "]");
}

}  // namespace pushcgi
