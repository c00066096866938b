#include "pushcgi/client_pull.hpp"

#include <gtest/gtest.h>

#include "pushcgi/text.hpp"

namespace pushcgi {
namespace {

TEST(ClientPull, HtmlEscapeCoversMarkupAndQuotes) {
  EXPECT_EQ(html_escape("<script>alert('x&y')</script> \"q\""),
            "&lt;script&gt;alert(&#39;x&amp;y&#39;)&lt;/script&gt; &quot;q&quot;");
  EXPECT_EQ(html_escape("plain"), "plain");
}

TEST(ClientPull, RefreshValue) {
  EXPECT_EQ(*refresh_value({5, ""}), "5");
  EXPECT_EQ(*refresh_value({0, "/ps/pull?interval=2"}), "0; url=/ps/pull?interval=2");
}

TEST(ClientPull, QuotesInTheUrlAreEncoded) {
  EXPECT_EQ(*refresh_value({1, "'/x\"y"}), "1; url=%27/x%22y");
}

TEST(ClientPull, LineBreakInTheUrlIsRefused) {
  EXPECT_FALSE(refresh_value({1, "/x\r\nSet-Cookie: a=b"}));
  ResponseHead head(200);
  EXPECT_EQ(add_refresh(head, {1, "/x\nSet-Cookie: a=b"}), Error::header_injection);
  EXPECT_EQ(head.error(), Error::header_injection);
  EXPECT_FALSE(head.find("Refresh"));
  EXPECT_FALSE(refresh_meta({1, "/x\n"}));
}

TEST(ClientPull, RefreshHeader) {
  ResponseHead head(200);
  EXPECT_EQ(add_refresh(head, {5, "/next"}), Error::none);
  EXPECT_EQ(head.find("Refresh").value_or(""), "5; url=/next");
}

TEST(ClientPull, MetaIsEscaped) {
  EXPECT_EQ(*refresh_meta({5, ""}), "<meta http-equiv=\"refresh\" content=\"5\">");
  EXPECT_EQ(*refresh_meta({2, "/a?b=1&c=<2>"}),
            "<meta http-equiv=\"refresh\" content=\"2; url=/a?b=1&amp;c=&lt;2&gt;\">");
}

TEST(ClientPull, PageHasMetaAndEscapedTitle) {
  EXPECT_EQ(*render_pull_page("Processes <live>", "<p>body</p>", {5, ""}),
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            "<meta http-equiv=\"refresh\" content=\"5\">\n"
            "<title>Processes &lt;live&gt;</title>\n"
            "</head>\n<body>\n<p>body</p>\n</body>\n</html>\n");
}

}  // namespace
}  // namespace pushcgi
