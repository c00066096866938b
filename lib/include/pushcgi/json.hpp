// Just enough JSON to write /state pages.
#pragma once

#include <string>
#include <string_view>

namespace pushcgi {

// A JSON string literal (RFC 8259 section 7), quotes included; "<" is escaped too, so the
// text is also safe inside an HTML <script>.
std::string json_string(std::string_view text);

// A JSON number for a double: finite values with up to 3 decimals, otherwise 0.
std::string json_number(double value);

}  // namespace pushcgi
