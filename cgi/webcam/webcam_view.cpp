#include "webcam_view.hpp"

#include "pushcgi/client_pull.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

// title: already escaped.
std::string head(const std::string& extra, const std::string& title = "Webcam") {
  return std::string(kHtmlDocumentStart) + extra + "<title>" + title +
         "</title>\n<style>body{font-family:sans-serif;margin:1em}"
         "img{max-width:100%;height:auto;background:#222}nav a{margin-right:1em}"
         "figure{display:inline-block;margin:0 1em 1em 0;max-width:420px}</style>\n"
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

std::string render_camera_list(const std::string& root, const std::vector<CameraTile>& cameras) {
  std::string text = head("", "Webcams") + "<div>\n";
  for (const CameraTile& camera : cameras) {
    const std::string base = html_escape(root + camera.name + "/");
    const std::string name = html_escape(camera.name);
    text += "<figure><a href=\"" + base + "\"><img src=\"" + base + "snapshot\"" +
            size_attributes(camera.width, camera.height) + " alt=\"" + name +
            "\"></a>\n<figcaption><a href=\"" + base + "\">" + name +
            "</a>: " + html_escape(camera.describe) + "</figcaption></figure>\n";
  }
  return text + "</div>\n<nav><a href=\"" + html_escape(root) +
         "state\">state</a></nav>\n</body>\n</html>\n";
}

}  // namespace pushcgi
