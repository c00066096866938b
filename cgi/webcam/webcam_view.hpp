// HTML pages for webcam.fcgi.
#pragma once

#include <cstddef>
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

// The wall of several cameras (the program's / with --source NAME=SPEC): every camera's
// picture, each linking to its page, and the --wall-panel page in a frame beside them.
struct CameraTile {
  std::string name;
  std::string describe;
  int width = 0;  // as WebcamPage's
  int height = 0;
};
struct CameraWall {
  std::string root;  // SCRIPT_NAME + "/"
  std::vector<CameraTile> cameras;
  std::string panel;  // a page of this site shown in a frame, "" for none
  // The page came over HTTP/2 or later: one connection carries every stream. Over HTTP/1.x a
  // browser opens six connections per host and a seventh stream would freeze the page.
  bool multiplexed = false;
};

// How many of the wall's pictures may stream at once: all over HTTP/2; over HTTP/1.x what
// is left of the browser's six connections after the panel's stream (its own page holds
// one) and one kept free for the snapshots, clicks and the next page.
std::size_t live_pictures(const CameraWall& wall);

// Every picture starts as its snapshot (a page without scripts still shows each camera);
// the script then turns live_pictures() of them into streams and reloads the others'
// snapshots every second, a click making one of those live instead of the longest-live.
// Over HTTP/2 the script first makes a few short requests: Apache's mod_http2 runs only six
// requests of a new connection at once and raises that as requests finish, which streams
// never do.
std::string render_camera_wall(const CameraWall& wall);

// The addresses a wall certainly asks for as soon as it is parsed: its snapshots (for a
// Link: rel=preload header, which nginx and Apache turn into server push).
std::vector<std::string> wall_preloads(const CameraWall& wall);

}  // namespace pushcgi
