// HTML pages for webcam.fcgi.
#pragma once

#include <string>
#include <vector>

namespace pushcgi {

struct WebcamPage {
  std::string base = "/";  // where the camera's routes are: SCRIPT_NAME + "/" (+ "NAME/")
  // Of the picture, for the <img> (no layout jump); 0 before the camera's first frame: the
  // browser then takes the picture's own size rather than stretch it to a guess.
  int width = 0;
  int height = 0;
  std::string title;     // a named camera's name; "" for the one camera of the program
  std::string describe;  // what its source is (shown with a title)
  std::string listing;   // the page listing every camera; "" for none
};

// The stream inline in a plain <img>, a link to the snapshot and to the pull variant.
std::string render_webcam_page(const WebcamPage& page);

// Client pull for clients that cannot take a stream: the page reloads itself every
// `interval` seconds and shows /snapshot (with a query that defeats image caches). It does
// not embed the stream: WebKit would never fire the load event that starts the refresh.
std::string render_webcam_pull_page(const WebcamPage& page, unsigned interval,
                                    long long cache_buster);

// The list of several cameras: each with its snapshot (a still picture, which holds no
// connection: a browser allows six per host, and a page of streams would stall at the
// seventh) and a link to its live page. root: SCRIPT_NAME + "/".
struct CameraTile {
  std::string name;
  std::string describe;
  int width = 0;  // as WebcamPage's
  int height = 0;
};
std::string render_camera_list(const std::string& root, const std::vector<CameraTile>& cameras);

}  // namespace pushcgi
