// Small text helpers shared by the layers: quoting untrusted input in a message, and
// comparing ASCII names without regard to case.
#pragma once

#include <string>
#include <string_view>

namespace pushcgi {

// The text as it may be quoted in a one-line message: at most 40 characters, anything
// outside printable ASCII shown as '?'.
std::string quote_input(std::string_view text);

// ASCII case-insensitive equality, as HTTP field names compare (RFC 9110 5.1); other bytes
// must be equal.
bool iequals(std::string_view a, std::string_view b);

}  // namespace pushcgi
