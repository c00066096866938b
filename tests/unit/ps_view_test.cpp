#include "ps_view.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "pushcgi/json.hpp"
#include "pushcgi/render_cache.hpp"

namespace pushcgi {
namespace {

ProcessSnapshot one_process(std::string name) {
  ProcessSnapshot snapshot;
  snapshot.taken = std::chrono::system_clock::from_time_t(1763700000);  // 2025-11-21 04:40:00
  ProcessInfo process;
  process.pid = 42;
  process.ppid = 1;
  process.user = "www-data";
  process.state = 'S';
  process.cpu_percent = 12.345;
  process.rss_bytes = 3 * 1048576 / 2;
  process.start_time = 1763700000 - 60;
  process.name = std::move(name);
  process.args = "prog --token=<secret>";
  snapshot.processes.push_back(process);
  return snapshot;
}

TEST(PsView, TableKnownAnswer) {
  PsView view;
  EXPECT_EQ(render_process_table(one_process("nginx"), view),
            "<p class=\"caption\">1 of 1 processes at 2025-11-21 04:40:00 UTC, sorted by pid</p>\n"
            "<table class=\"ps\">\n"
            "<tr><th>PID</th><th>PPID</th><th class=\"l\">USER</th><th class=\"l\">S</th>"
            "<th>%CPU</th><th>RSS MiB</th><th>START</th><th class=\"l\">COMMAND</th></tr>\n"
            "<tr><td>42</td><td>1</td><td class=\"l\">www-data</td><td class=\"l\">S</td>"
            "<td>12.3</td><td>1.5</td><td>04:39:00</td><td class=\"l\">nginx</td></tr>\n"
            "</table>\n");
}

TEST(PsView, TopRowsAreCutFromTheRowsOfTheirOrder) {
  ProcessSnapshot snapshot = one_process("mid");  // pid 42, 12.3 %CPU
  for (const auto& [pid, cpu] : {std::pair<int, double>{7, 50.0}, {99, 1.0}}) {
    ProcessInfo process = snapshot.processes.front();
    process.pid = pid;
    process.cpu_percent = cpu;
    snapshot.processes.push_back(process);
  }
  const ProcessRows rows = render_process_rows(snapshot, ProcessSort::cpu, false);
  ASSERT_EQ(rows.ends.size(), 3u);
  const std::string two = process_table(rows, 2);
  EXPECT_NE(two.find(">2 of 3 processes at "), std::string::npos) << two;
  EXPECT_LT(two.find("<tr><td>7</td>"), two.find("<tr><td>42</td>"));
  EXPECT_EQ(two.find("<tr><td>99</td>"), std::string::npos);
  EXPECT_EQ(two.substr(two.size() - 15), "</tr>\n</table>\n");  // whole rows
  for (std::size_t all : {0, 3, 100000}) {
    const std::string table = process_table(rows, all);
    EXPECT_NE(table.find(">3 of 3 processes at "), std::string::npos) << all;
    EXPECT_LT(table.find("<tr><td>42</td>"), table.find("<tr><td>99</td>")) << all;
  }
  PsView view;
  view.sort = ProcessSort::cpu;
  view.top = 2;
  EXPECT_EQ(render_process_table(snapshot, view), two);
}

TEST(PsView, EverythingFromProcIsEscaped) {
  PsView view;
  view.show_args = true;
  const std::string html = render_process_table(one_process("<script>alert(1)</script>"), view);
  EXPECT_EQ(html.find("<script>"), std::string::npos);
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("prog --token=&lt;secret&gt;"), std::string::npos);
}

TEST(PsView, ArgumentsColumnOnlyWhenShown) {
  PsView view;
  EXPECT_EQ(render_process_table(one_process("x"), view).find("secret"), std::string::npos);
  EXPECT_EQ(render_process_table(one_process("x"), view).find("ARGS"), std::string::npos);
}

TEST(PsView, PullPageRefreshesAndOffersPause) {
  PsView view;
  view.interval = 7;
  view.base = "/ps/";
  const std::string page = render_pull_document("<table></table>", view, false);
  EXPECT_NE(page.find("<meta http-equiv=\"refresh\" content=\"7\">"), std::string::npos);
  EXPECT_NE(page.find("href=\"/ps/pull?interval=7&amp;sort=pid&amp;paused=1\">Pause</a>"),
            std::string::npos);
  const std::string paused = render_pull_document("<table></table>", view, true);
  EXPECT_EQ(paused.find("http-equiv=\"refresh\""), std::string::npos);
  EXPECT_NE(paused.find(">Resume</a>"), std::string::npos);
}

TEST(PsView, LivePageUsesEventSourceWithNoscriptFallback) {
  PsView view;
  view.base = "/ps/";
  view.sort = ProcessSort::cpu;
  const std::string page = render_live_document("<table></table>", view);
  EXPECT_NE(page.find("new EventSource(\"/ps/events?interval=5&sort=cpu\")"), std::string::npos);
  EXPECT_NE(page.find("<noscript><meta http-equiv=\"refresh\" content=\"5\"></noscript>"),
            std::string::npos);
  EXPECT_NE(page.find("<div id=\"ps\">\n<table></table></div>"), std::string::npos);
}

TEST(PsView, ScriptNameCannotBreakOutOfTheScript) {
  PsView view;
  view.base = "/x\"</script><script>alert(1)//";
  const std::string page = render_live_document("", view);
  EXPECT_EQ(page.find("</script><script>alert(1)"), std::string::npos);
}

TEST(Json, StringsAndNumbers) {
  EXPECT_EQ(json_string("a\"b\\c\n\x01<"), "\"a\\\"b\\\\c\\n\\u0001\\u003c\"");
  EXPECT_EQ(json_number(1.5), "1.5");
  EXPECT_EQ(json_number(2.0), "2");
  EXPECT_EQ(json_number(0.0004), "0");
  EXPECT_EQ(json_number(1.0 / 0.0), "0");
}

TEST(RenderCache, EachVariantOnce) {
  RenderCache cache;
  int made = 0;
  const auto make = [&made] { return std::string("text ") + std::to_string(++made); };
  const auto first = cache.get("a", make);
  EXPECT_EQ(*first, "text 1");
  EXPECT_EQ(cache.get("a", make).get(), first.get());
  EXPECT_EQ(*cache.get("b", make), "text 2");
  EXPECT_EQ(cache.renders(), 2u);
  for (std::size_t i = 0; i < RenderCache::kMaxVariants + 5; ++i)
    cache.get(std::to_string(i), make);
  EXPECT_EQ(*cache.get("a", make), "text 1");  // kept
}

TEST(RenderCache, RenderingMayUseOtherVariants) {
  // A document built around a table that is cached too (this deadlocked once).
  RenderCache cache;
  const auto table = [&] { return cache.get("table", [] { return std::string("<table>"); }); };
  const auto page = cache.get("page", [&] { return "<html>" + *table() + "</html>"; });
  EXPECT_EQ(*page, "<html><table></html>");
  EXPECT_EQ(cache.renders(), 2u);
}

TEST(RenderCache, ConcurrentViewersRenderOnce) {
  RenderCache cache;
  std::atomic<int> made{0};
  std::vector<std::thread> viewers;
  for (int i = 0; i < 8; ++i) {
    viewers.emplace_back([&] {
      cache.get("doc", [&] {
        ++made;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return std::string("doc");
      });
    });
  }
  for (std::thread& viewer : viewers) viewer.join();
  EXPECT_EQ(made.load(), 1);
  EXPECT_EQ(cache.renders(), 1u);
}

}  // namespace
}  // namespace pushcgi
