// Small text helpers shared by the layers and the programs: quoting untrusted input in a
// message, comparing ASCII names without regard to case, escaping text for HTML.
#pragma once

#include <string>
#include <string_view>

namespace pushcgi {

// The text as it may be quoted in a one-line message: at most 40 characters, anything
// outside printable ASCII shown as '?', and a URL's user-info and query as "***" (they may
// hold a password).
std::string quote_input(std::string_view text);

// ASCII case-insensitive equality, as HTTP field names compare (RFC 9110 5.1); other bytes
// must be equal.
bool iequals(std::string_view a, std::string_view b);

// & < > " ' as character references: safe in element content and in quoted attributes.
std::string html_escape(std::string_view text);

// How every UTF-8 HTML5 page here starts, up to the viewport meta; the caller writes the rest
// of the head (refresh meta, title, style) and closes it.
inline constexpr std::string_view kHtmlDocumentStart =
    "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";

}  // namespace pushcgi
