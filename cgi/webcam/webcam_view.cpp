#include "webcam_view.hpp"

#include <algorithm>

#include "pushcgi/client_pull.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

// title: already escaped.
std::string head(const std::string& extra, const std::string& title = "Webcam") {
  return std::string(kHtmlDocumentStart) + extra + "<title>" + title +
         "</title>\n<style>body{font-family:sans-serif;margin:1em}"
         "img{max-width:100%;height:auto;background:#222}nav a{margin-right:1em}"
         "#wall{display:grid;grid-template-columns:repeat(auto-fill,minmax(180px,1fr));gap:.5em}"
         "figure{margin:0}figure img{width:100%}figcaption{font-size:small}"
         ".panel{grid-column:span 2;grid-row:span 2;min-height:320px;width:100%;"
         "border:1px solid #ccc}</style>\n"
         "</head>\n<body>\n<h1>" +
         title + "</h1>\n";
}

// ' width="W" height="H"', or nothing while the size is not known.
std::string size_attributes(int width, int height) {
  if (width <= 0 || height <= 0) return {};
  return " width=\"" + std::to_string(width) + "\" height=\"" + std::to_string(height) + "\"";
}

std::string image(const WebcamPage& page, const std::string& src, const char* alt) {
  return "<img src=\"" + html_escape(src) + "\"" + size_attributes(page.width, page.height) +
         " alt=\"" + alt + "\">\n";
}

std::string page_title(const WebcamPage& page) {
  return page.title.empty() ? "Webcam" : "Webcam: " + html_escape(page.title);
}

// What the source is and the way back to the list, for a named camera.
std::string camera_header(const WebcamPage& page) {
  std::string text;
  if (!page.describe.empty()) text += "<p>" + html_escape(page.describe) + "</p>\n";
  if (!page.listing.empty()) {
    text += "<p><a href=\"" + html_escape(page.listing) + "\">all cameras</a></p>\n";
  }
  return text;
}

}  // namespace

std::string render_webcam_page(const WebcamPage& page) {
  const std::string base = html_escape(page.base);
  return head("", page_title(page)) + camera_header(page) + "<p>" +
         image(page, page.base + "stream", "live picture") + "</p>\n" + "<nav><a href=\"" + base +
         "snapshot\">snapshot</a><a href=\"" + base +
         "?mode=pull\">reloading page (for clients without streams)</a><a href=\"" + base +
         "state\">state</a></nav>\n</body>\n</html>\n";
}

std::string render_webcam_pull_page(const WebcamPage& page, unsigned interval,
                                    long long cache_buster) {
  const std::string base = html_escape(page.base);
  return head(*refresh_meta({interval, ""}) + "\n", page_title(page)) + camera_header(page) +
         "<p>" + image(page, page.base + "snapshot?t=" + std::to_string(cache_buster), "picture") +
         "</p>\n<p>Reloads every " + std::to_string(interval) + " s. <a href=\"" + base +
         "\">Stop: show the live stream instead</a> <a href=\"" + base +
         "snapshot\">snapshot only</a></p>\n</body>\n</html>\n";
}

std::size_t live_pictures(const CameraWall& wall) {
  if (wall.multiplexed) return wall.cameras.size();
  constexpr std::size_t kConnectionsPerHost = 6;  // Chromium, Firefox and Safari over HTTP/1.x
  const std::size_t taken = 1 + (wall.panel.empty() ? 0 : 1);  // one kept free, the panel's
  return std::min(wall.cameras.size(), kConnectionsPerHost - taken);
}

std::vector<std::string> wall_preloads(const CameraWall& wall) {
  std::vector<std::string> paths;
  for (const CameraTile& camera : wall.cameras) {
    paths.push_back(wall.root + camera.name + "/snapshot");
  }
  return paths;
}

namespace {

// The wall's behaviour (render_camera_wall); the pictures and their addresses come from the
// markup's data- attributes.
constexpr std::string_view kWallScript = R"(<script>
(async () => {
  const wall = document.getElementById("wall");
  const pictures = [...wall.querySelectorAll("img[data-stream]")];
  const budget = Number(wall.dataset.live);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  const note = document.getElementById("note");
  if (note) note.hidden = false;
  // The pictures that hold one of the streams, the longest-held first.
  const live = [];
  const stream = (img) => {
    img.dataset.mode = "live";
    img.src = img.dataset.stream;
  };
  const still = (img) => {
    img.dataset.mode = "pull";
    img.src = img.dataset.snapshot + "?t=" + Date.now();
  };
  // A picture in pull mode shows a new snapshot a second after the last one came (or failed).
  const reload = (img) => {
    clearTimeout(img.timer);
    img.timer = setTimeout(() => { if (img.dataset.mode === "pull") still(img); }, 1000);
  };
  const play = (img) => {
    live.push(img);
    stream(img);
  };
  const pull = (img) => {
    img.dataset.mode = "pull";
    if (img.complete) reload(img);
  };
  for (const img of pictures) {
    img.addEventListener("load", () => { if (img.dataset.mode === "pull") reload(img); });
    img.addEventListener("error", () => {
      if (img.dataset.mode !== "live") {
        if (img.dataset.mode === "pull") reload(img);
        return;
      }
      // The stream failed (the program at its --max-streams, a restart, a camera gone):
      // snapshots meanwhile, and the stream again in 5 s while the picture keeps its place.
      still(img);
      clearTimeout(img.retry);
      img.retry = setTimeout(() => { if (live.includes(img)) stream(img); }, 5000);
    });
    img.closest("a").addEventListener("click", (event) => {
      if (live.includes(img)) return;  // a live picture leads to its camera's page
      event.preventDefault();
      const longest = live.shift();
      if (longest) {
        clearTimeout(longest.retry);
        still(longest);
      }
      play(img);
    });
  }
  if (wall.dataset.multiplexed === "yes") {
    // mod_http2 halves a connection's limit for each request reset before its answer:
    // let the snapshots and the panel come first (at most 3 s) rather than cancel them.
    const loaded = (element, ready) => ready || new Promise((done) => {
      element.addEventListener("load", done, { once: true });
      element.addEventListener("error", done, { once: true });
      setTimeout(done, 3000);
    });
    const panel = wall.querySelector("iframe.panel");
    await Promise.all([
      ...pictures.map((img) => loaded(img, img.complete)),
      panel && loaded(panel, panel.contentDocument?.readyState === "complete"),
    ]);
    // mod_http2 runs six requests of a new connection at once and doubles that when a
    // request that started after the last increase ends 100 ms or more after it. Eight
    // short requests in a row: three would do on a quiet connection, but a request of the
    // page still under way can take an increase from under one of them.
    for (let i = 0; i < 8; i++) {
      // A snapshot's head: a short answer without the page's preload links, which a
      // server with push on would turn into pushes each time.
      try {
        await fetch(pictures[0].dataset.snapshot, { method: "HEAD", cache: "no-store" });
      } catch (e) {}
      await sleep(120);
    }
  }
  pictures.forEach((img, i) => (i < budget ? play(img) : pull(img)));
})();
</script>
)";

}  // namespace

std::string render_camera_wall(const CameraWall& wall) {
  const std::size_t live = live_pictures(wall);
  std::string text = head("", "Webcams");
  const std::size_t count = wall.cameras.size();
  // The note and the pictures' motion come from the script; without it every picture is a
  // snapshot, and the note would be wrong.
  if (live < count) {
    text +=
        "<p id=\"note\" hidden>This page came over HTTP/1.1, where a browser opens at most "
        "six connections to one host and a seventh stream would freeze the page: " +
        std::to_string(live) + " of the " + std::to_string(count) +
        " pictures are live, the others show a new snapshot every second (click one to "
        "watch it live). Over HTTP/2 (https) every picture is live.</p>\n";
  } else {
    text += "<p id=\"note\" hidden>All " + std::to_string(count) + " pictures are live.</p>\n";
  }
  text +=
      "<noscript><p>Without scripts every picture is a snapshot: click one for its live "
      "page.</p></noscript>\n";
  text += "<div id=\"wall\" data-live=\"" + std::to_string(live) + "\" data-multiplexed=\"" +
          (wall.multiplexed ? "yes" : "no") + "\">\n";
  // The panel first: the top left corner, where a status is read before the pictures.
  if (!wall.panel.empty()) {
    text += "<iframe class=\"panel\" src=\"" + html_escape(wall.panel) + "\" title=\"status\">" +
            "</iframe>\n";
  }
  for (const CameraTile& camera : wall.cameras) {
    const std::string base = html_escape(wall.root + camera.name + "/");
    const std::string name = html_escape(camera.name);
    text += "<figure><a href=\"" + base + "\"><img src=\"" + base + "snapshot\" data-snapshot=\"" +
            base + "snapshot\" data-stream=\"" + base + "stream\"" +
            size_attributes(camera.width, camera.height) + " alt=\"" + name +
            "\"></a>\n<figcaption><a href=\"" + base + "\">" + name +
            "</a>: " + html_escape(camera.describe) + "</figcaption></figure>\n";
  }
  return text + "</div>\n<nav><a href=\"" + html_escape(wall.root) + "state\">state</a></nav>\n" +
         std::string(kWallScript) + "</body>\n</html>\n";
}

}  // namespace pushcgi
