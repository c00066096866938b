// HTML for a live process list: the table, and the documents each ps.fcgi route sends.
// Every text from /proc is escaped; process names can be chosen by anyone who runs a
// program ("<script>...").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "pushcgi/error.hpp"
#include "pushcgi/process_table.hpp"

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

// "<p class="caption">...</p><table class="ps">...</table>": the part that changes.
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
