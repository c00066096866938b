// HTML pages for webcam.fcgi.
#pragma once

#include <string>

namespace pushcgi {

struct WebcamPage {
  std::string base = "/";  // where the routes are: SCRIPT_NAME + "/"
  int width = 640;         // of the picture, for the <img> (no layout jump)
  int height = 480;
};

// The stream inline in a plain <img>, a link to the snapshot and to the pull variant.
std::string render_webcam_page(const WebcamPage& page);

// Client pull for clients that cannot take a stream: the page reloads itself every
// `interval` seconds and shows /snapshot (with a query that defeats image caches). It does
// not embed the stream: WebKit would never fire the load event that starts the refresh.
std::string render_webcam_pull_page(const WebcamPage& page, unsigned interval,
                                    long long cache_buster);

}  // namespace pushcgi
