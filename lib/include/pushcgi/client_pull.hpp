// Client pull: the page tells the browser to load it (or another URL) again after a delay,
// with a Refresh header and the same in <meta http-equiv="refresh">. Works in every browser.
// The delay is whole seconds counted from the load event. Give people a visible way to stop
// or change the refresh (WCAG 2.2.1), and do not embed a multipart stream in a pull page:
// WebKit never fires its load event while the stream runs, so the page never reloads.
#pragma once

#include <string>
#include <string_view>

#include "pushcgi/error.hpp"
#include "pushcgi/header.hpp"

namespace pushcgi {

struct Refresh {
  unsigned seconds = 5;
  std::string url;  // empty: load the same URL again
};

// "N" or "N; url=U", with quotes in U percent-encoded (a leading quote would be taken as the
// URL's delimiter). Error::header_injection if U holds CR, LF or NUL.
Parsed<std::string> refresh_value(const Refresh& refresh);

// Adds "Refresh: N; url=U" to the head (the refusal is also recorded in head.error()).
Error add_refresh(ResponseHead& head, const Refresh& refresh);

// <meta http-equiv="refresh" content="N; url=U"> with everything escaped.
Parsed<std::string> refresh_meta(const Refresh& refresh);

// A complete UTF-8 HTML5 page: the title escaped, body_html inserted as it is (the caller
// escapes what goes into it), the refresh meta in the head.
Parsed<std::string> render_pull_page(std::string_view title, std::string_view body_html,
                                     const Refresh& refresh);

}  // namespace pushcgi
