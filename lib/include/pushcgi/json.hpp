// Just enough JSON to write /state pages.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace pushcgi {

// A JSON string literal (RFC 8259 section 7), quotes included; "<" is escaped too, so the
// text is also safe inside an HTML <script>.
std::string json_string(std::string_view text);

// A JSON number for a double: finite values with up to 3 decimals, otherwise 0.
std::string json_number(double value);

// One JSON object, written field by field in the order given, with no spaces:
//   JsonObject().integer("open_streams", 3).seconds("connected_seconds", d).text()
// gives {"open_streams":3,"connected_seconds":1.5}. Keys are written as json_string.
class JsonObject {
 public:
  template <typename Int,
            std::enable_if_t<std::is_integral_v<Int> && !std::is_same_v<Int, bool>, int> = 0>
  JsonObject& integer(std::string_view key, Int value) {
    return raw(key, std::to_string(value));
  }
  JsonObject& number(std::string_view key, double value);  // as json_number
  JsonObject& seconds(std::string_view key, std::chrono::duration<double> value);
  JsonObject& string(std::string_view key, std::string_view value);
  JsonObject& boolean(std::string_view key, bool value);
  JsonObject& null(std::string_view key);
  JsonObject& object(std::string_view key, const JsonObject& value);
  JsonObject& array(std::string_view key, const std::vector<JsonObject>& items);
  // value must already be JSON.
  JsonObject& raw(std::string_view key, std::string_view value);

  std::string text() const { return "{" + fields_ + "}"; }

 private:
  std::string fields_;
};

}  // namespace pushcgi
