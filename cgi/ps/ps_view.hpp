// HTML for a live process list: the table, and the documents each ps.fcgi route sends.
// Every text from /proc is escaped; process names can be chosen by anyone who runs a
// program ("<script>...").
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "process_table.hpp"
#include "pushcgi/error.hpp"

namespace pushcgi {

std::string_view to_string(ProcessSort sort);

struct PsView {
  ProcessSort sort = ProcessSort::pid;
  std::size_t top = 0;     // 0: every process
  bool show_args = false;  // a column with the command line
  unsigned interval = 5;   // seconds between snapshots for this viewer
  std::string base = "/";  // where the routes are: SCRIPT_NAME + "/"

  // The view's query string ("interval=5&sort=cpu&top=20"), for links.
  std::string query() const;
  // What distinguishes the rendered table (sort, top, columns), for a RenderCache.
  std::string table_key() const;
};

// Every process of a snapshot as table rows in one sort order. The order is total (pid
// breaks ties), so the table for top=N is the first N rows: rendered once per sort order,
// the rows serve every top= value, and no top= value costs another rendering.
struct ProcessRows {
  ProcessSort sort = ProcessSort::pid;
  bool show_args = false;
  std::chrono::system_clock::time_point taken;
  std::string html;               // "<tr>...</tr>\n" per process
  std::vector<std::size_t> ends;  // where each row ends in html
};
ProcessRows render_process_rows(const ProcessSnapshot& snapshot, ProcessSort sort, bool show_args);

// "<p class="caption">...</p><table class="ps">...</table>": the part that changes, with
// the first top rows (0: all). A copy, no rendering.
std::string process_table(const ProcessRows& rows, std::size_t top);

// Both: the table of view.top rows in view.sort.
std::string render_process_table(const ProcessSnapshot& snapshot, const PsView& view);

// A complete HTML document around a table, for /push (one per part).
std::string render_push_document(std::string_view table_html, const PsView& view);

// The client-pull page: the table, reloaded every view.interval seconds, with links to
// pause it (WCAG 2.2.1) or change the interval. paused: the same without the refresh.
std::string render_pull_document(std::string_view table_html, const PsView& view, bool paused);

// The live page "/": an EventSource that replaces the table on every event, client pull
// for browsers without scripts, and links to the other routes.
std::string render_live_document(std::string_view table_html, const PsView& view);

}  // namespace pushcgi
