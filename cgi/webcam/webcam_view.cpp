#include "webcam_view.hpp"

#include "pushcgi/client_pull.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

std::string head(const std::string& extra) {
  return std::string(kHtmlDocumentStart) + extra +
         "<title>Webcam</title>\n<style>body{font-family:sans-serif;margin:1em}"
         "img{max-width:100%;height:auto;background:#222}nav a{margin-right:1em}</style>\n"
         "</head>\n<body>\n<h1>Webcam</h1>\n";
}

std::string image(const WebcamPage& page, const std::string& src, const char* alt) {
  return "<img src=\"" + html_escape(src) + "\" width=\"" + std::to_string(page.width) +
         "\" height=\"" + std::to_string(page.height) + "\" alt=\"" + alt + "\">\n";
}

}  // namespace

std::string render_webcam_page(const WebcamPage& page) {
  const std::string base = html_escape(page.base);
  return head("") + "<p>" + image(page, page.base + "stream", "live picture") + "</p>\n" +
         "<nav><a href=\"" + base + "snapshot\">snapshot</a><a href=\"" + base +
         "?mode=pull\">reloading page (for clients without streams)</a><a href=\"" + base +
         "state\">state</a></nav>\n</body>\n</html>\n";
}

std::string render_webcam_pull_page(const WebcamPage& page, unsigned interval,
                                    long long cache_buster) {
  const std::string base = html_escape(page.base);
  return head(*refresh_meta({interval, ""}) + "\n") + "<p>" +
         image(page, page.base + "snapshot?t=" + std::to_string(cache_buster), "picture") +
         "</p>\n<p>Reloads every " + std::to_string(interval) + " s. <a href=\"" + base +
         "\">Stop: show the live stream instead</a> <a href=\"" + base +
         "snapshot\">snapshot only</a></p>\n</body>\n</html>\n";
}

}  // namespace pushcgi
