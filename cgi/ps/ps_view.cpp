#include "ps_view.hpp"

#include <cstdio>
#include <ctime>

#include "pushcgi/client_pull.hpp"
#include "pushcgi/json.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

constexpr std::string_view kStyle =
    "<style>body{font-family:sans-serif;margin:1em}"
    "table.ps{border-collapse:collapse;font-family:monospace}"
    "table.ps th,table.ps td{padding:0 .6em;text-align:right}"
    "table.ps td.l,table.ps th.l{text-align:left}"
    "table.ps tr:nth-child(even){background:#f2f2f2}"
    "nav a{margin-right:1em}</style>\n";

std::string format_utc(std::time_t seconds, const char* format) {
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[64];
  std::strftime(text, sizeof text, format, &utc);
  return text;
}

// Today: the time; earlier: the date (as ps's STIME).
std::string start_text(std::int64_t start, std::time_t now) {
  const auto when = static_cast<std::time_t>(start);
  return now - when < 24 * 3600 ? format_utc(when, "%H:%M:%S") : format_utc(when, "%Y-%m-%d");
}

std::string fixed(double value, int decimals) {
  char text[32];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

std::string head(std::string_view title, std::string_view extra = {}) {
  std::string out(kHtmlDocumentStart);
  out.append(extra).append("<title>").append(html_escape(title)).append("</title>\n");
  out.append(kStyle).append("</head>\n<body>\n");
  return out;
}

std::string nav(const PsView& view) {
  const std::string q = html_escape("?" + view.query());
  const std::string base = html_escape(view.base);
  return "<nav><a href=\"" + base + q + "\">live</a><a href=\"" + base + "push" + q +
         "\">push</a><a href=\"" + base + "pull" + q + "\">pull</a><a href=\"" + base + "events" +
         q + "\">events</a><a href=\"" + base + "state\">state</a></nav>\n";
}

}  // namespace

std::string_view to_string(ProcessSort sort) {
  switch (sort) {
    case ProcessSort::pid:
      return "pid";
    case ProcessSort::cpu:
      return "cpu";
    case ProcessSort::rss:
      return "rss";
  }
  return "pid";
}

std::string PsView::query() const {
  std::string out =
      "interval=" + std::to_string(interval) + "&sort=" + std::string(to_string(sort));
  if (top > 0) out += "&top=" + std::to_string(top);
  return out;
}

std::string PsView::table_key() const {
  return std::string(to_string(sort)) + "/" + std::to_string(top) + (show_args ? "/args" : "");
}

ProcessRows render_process_rows(const ProcessSnapshot& snapshot, ProcessSort sort, bool show_args) {
  ProcessRows rows{sort, show_args, snapshot.taken, {}, {}};
  const std::time_t now = std::chrono::system_clock::to_time_t(snapshot.taken);
  rows.ends.reserve(snapshot.processes.size());
  for (const ProcessInfo* p : select_processes(snapshot, sort, 0)) {
    rows.html += "<tr><td>" + std::to_string(p->pid) + "</td><td>" + std::to_string(p->ppid) +
                 "</td><td class=\"l\">" + html_escape(p->user) + "</td><td class=\"l\">" +
                 html_escape(std::string(1, p->state)) + "</td><td>" + fixed(p->cpu_percent, 1) +
                 "</td><td>" + fixed(static_cast<double>(p->rss_bytes) / 1048576.0, 1) +
                 "</td><td>" + start_text(p->start_time, now) + "</td><td class=\"l\">" +
                 html_escape(p->name) + "</td>";
    if (show_args) rows.html += "<td class=\"l\">" + html_escape(p->args) + "</td>";
    rows.html += "</tr>\n";
    rows.ends.push_back(rows.html.size());
  }
  return rows;
}

std::string process_table(const ProcessRows& rows, std::size_t top) {
  const std::size_t total = rows.ends.size();
  const std::size_t shown = top > 0 && top < total ? top : total;
  const std::time_t now = std::chrono::system_clock::to_time_t(rows.taken);
  std::string out = "<p class=\"caption\">" + std::to_string(shown) + " of " +
                    std::to_string(total) + " processes at " +
                    format_utc(now, "%Y-%m-%d %H:%M:%S UTC") + ", sorted by " +
                    std::string(to_string(rows.sort)) + "</p>\n";
  out +=
      "<table class=\"ps\">\n<tr><th>PID</th><th>PPID</th><th class=\"l\">USER</th>"
      "<th class=\"l\">S</th><th>%CPU</th><th>RSS MiB</th><th>START</th>"
      "<th class=\"l\">COMMAND</th>";
  if (rows.show_args) out += "<th class=\"l\">ARGS</th>";
  out += "</tr>\n";
  out.append(rows.html, 0, shown > 0 ? rows.ends[shown - 1] : 0);
  return out + "</table>\n";
}

std::string render_process_table(const ProcessSnapshot& snapshot, const PsView& view) {
  return process_table(render_process_rows(snapshot, view.sort, view.show_args), view.top);
}

std::string render_push_document(std::string_view table_html, const PsView& view) {
  return head("Processes") + "<h1>Processes</h1>\n" + nav(view) + std::string(table_html) +
         "</body>\n</html>\n";
}

std::string render_pull_document(std::string_view table_html, const PsView& view, bool paused) {
  std::string extra;
  if (!paused) extra = *refresh_meta({view.interval, ""}) + "\n";
  std::string controls = "<p>";
  if (paused) {
    controls +=
        "Paused. <a href=\"" + html_escape(view.base + "pull?" + view.query()) + "\">Resume</a>";
  } else {
    controls += "Reloads every " + std::to_string(view.interval) + " s. <a href=\"" +
                html_escape(view.base + "pull?" + view.query() + "&paused=1") + "\">Pause</a>";
  }
  for (unsigned seconds : {1u, 5u, 30u}) {
    PsView other = view;
    other.interval = seconds;
    controls += " <a href=\"" + html_escape(view.base + "pull?" + other.query()) + "\">every " +
                std::to_string(seconds) + " s</a>";
  }
  controls += "</p>\n";
  return head("Processes", extra) + "<h1>Processes</h1>\n" + nav(view) + controls +
         std::string(table_html) + "</body>\n</html>\n";
}

std::string render_live_document(std::string_view table_html, const PsView& view) {
  // Without scripts, <noscript> in the head turns the page into client pull.
  const std::string extra = "<noscript>" + *refresh_meta({view.interval, ""}) + "</noscript>\n";
  const std::string events = view.base + "events?" + view.query();
  return head("Processes", extra) + "<h1>Processes</h1>\n" + nav(view) +
         "<p id=\"status\">Live: a new list every " + std::to_string(view.interval) +
         " s.</p>\n<div id=\"ps\">\n" + std::string(table_html) + "</div>\n<script>\n" +
         "const source = new EventSource(" + json_string(events) + ");\n" +
         "source.addEventListener(\"snapshot\", (e) => {\n"
         "  document.getElementById(\"ps\").innerHTML = e.data;\n"
         "});\n"
         "source.onerror = () => {\n"
         "  document.getElementById(\"status\").textContent = \"Reconnecting...\";\n"
         "};\n"
         "source.onopen = () => {\n"
         "  document.getElementById(\"status\").textContent = \"Live.\";\n"
         "};\n"
         "</script>\n</body>\n</html>\n";
}

}  // namespace pushcgi
