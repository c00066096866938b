#include "pushcgi/client_pull.hpp"

#include "pushcgi/text.hpp"

namespace pushcgi {

Parsed<std::string> refresh_value(const Refresh& refresh) {
  std::string value = std::to_string(refresh.seconds);
  if (refresh.url.empty()) return value;
  if (has_line_break(refresh.url)) {
    return Parsed<std::string>::failure(std::string(to_string(Error::header_injection)));
  }
  value += "; url=";
  for (char c : refresh.url) {
    if (c == '"') {
      value += "%22";
    } else if (c == '\'') {
      value += "%27";
    } else {
      value += c;
    }
  }
  return value;
}

Error add_refresh(ResponseHead& head, const Refresh& refresh) {
  const Parsed<std::string> value = refresh_value(refresh);
  if (!value) {
    // Let the head record the refusal too, so that it cannot be sent by mistake.
    return head.add("Refresh", refresh.url);
  }
  return head.add("Refresh", *value);
}

Parsed<std::string> refresh_meta(const Refresh& refresh) {
  const Parsed<std::string> value = refresh_value(refresh);
  if (!value) return value;
  return "<meta http-equiv=\"refresh\" content=\"" + html_escape(*value) + "\">";
}

Parsed<std::string> render_pull_page(std::string_view title, std::string_view body_html,
                                     const Refresh& refresh) {
  const Parsed<std::string> meta = refresh_meta(refresh);
  if (!meta) return meta;
  std::string page(kHtmlDocumentStart);
  page.append(*meta).append("\n<title>").append(html_escape(title)).append("</title>\n");
  page.append("</head>\n<body>\n").append(body_html).append("\n</body>\n</html>\n");
  return page;
}

}  // namespace pushcgi
