#include "pushcgi/header.hpp"

#include <gtest/gtest.h>

namespace pushcgi {
namespace {

TEST(Header, TokensFollowRfc9110) {
  EXPECT_TRUE(is_token("Content-Type"));
  EXPECT_TRUE(is_token("X-Timestamp"));
  EXPECT_TRUE(is_token("a!#$%&'*+-.^_`|~9"));
  EXPECT_FALSE(is_token(""));
  EXPECT_FALSE(is_token("Bad Name"));
  EXPECT_FALSE(is_token("Bad:Name"));
  EXPECT_FALSE(is_token("Bad\r\nName"));
  EXPECT_FALSE(is_token("Ümlaut"));
}

TEST(Header, LineBreaksInValuesAreInjection) {
  EXPECT_EQ(check_header("Refresh", "5; url=/next"), Error::none);
  EXPECT_EQ(check_header("Refresh", "5\r\nSet-Cookie: a=b"), Error::header_injection);
  EXPECT_EQ(check_header("Refresh", "5\nSet-Cookie: a=b"), Error::header_injection);
  EXPECT_EQ(check_header("Refresh", "5\rX"), Error::header_injection);
  EXPECT_EQ(check_header("Refresh", std::string_view("5\0x", 3)), Error::header_injection);
  EXPECT_EQ(check_header("Re fresh", "5"), Error::bad_header_name);
}

TEST(Header, RefusedHeaderIsNotStoredAndIsRemembered) {
  ResponseHead head(200);
  EXPECT_EQ(head.add("Content-Type", "text/plain"), Error::none);
  EXPECT_EQ(head.add("Location", "/a\r\nSet-Cookie: x=1"), Error::header_injection);
  EXPECT_EQ(head.add("X-Fine", "yes"), Error::none);
  EXPECT_EQ(head.error(), Error::header_injection);
  ASSERT_EQ(head.headers().size(), 2u);
  EXPECT_EQ(head.render(HeadStyle::cgi).find("Set-Cookie"), std::string::npos);
}

TEST(Header, PreloadLinksNameAPathOfThisSite) {
  ResponseHead head(200);
  EXPECT_EQ(head.add_preload("/webcam/door/snapshot?t=17", "image"), Error::none);
  EXPECT_EQ(head.add_preload("/a.css", "style"), Error::none);
  ASSERT_EQ(head.headers().size(), 2u);
  EXPECT_EQ(head.headers()[0].value, "</webcam/door/snapshot?t=17>; rel=preload; as=image");
  EXPECT_EQ(head.headers()[1].name, "Link");
  EXPECT_EQ(head.error(), Error::none);
}

TEST(Header, PreloadTargetsThatWouldBreakTheLinkAreRefused) {
  for (const char* target : {"", "relative.jpg", "/a>; rel=stylesheet, </b", "/a b", "/a,b",
                             "/a\r\nSet-Cookie: x=1", "https://elsewhere/x", "//elsewhere/x"}) {
    ResponseHead head(200);
    EXPECT_EQ(head.add_preload(target, "image"), Error::bad_link_target) << target;
    EXPECT_TRUE(head.headers().empty()) << target;
    // Only the hint is lost: the response goes out.
    EXPECT_EQ(head.error(), Error::none) << target;
  }
  ResponseHead head(200);
  EXPECT_EQ(head.add_preload("/x", "image; rel=stylesheet"), Error::bad_link_target);
}

TEST(Header, CgiHeadHasStatusLine) {
  ResponseHead head(404);
  head.add("Content-Type", "text/plain");
  EXPECT_EQ(head.render(HeadStyle::cgi),
            "Status: 404 Not Found\r\nContent-Type: text/plain\r\n\r\n");
}

TEST(Header, NphHeadHasHttpStatusLineAndClosesTheConnection) {
  ResponseHead head(200);
  head.add("Content-Type", "text/html");
  EXPECT_EQ(head.render(HeadStyle::nph, "HTTP/1.0"),
            "HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n");
}

TEST(Header, StreamHeadersForbidCachingAndBuffering) {
  ResponseHead head(200);
  head.add_stream_headers();
  EXPECT_TRUE(head.streaming());
  EXPECT_EQ(head.render(HeadStyle::cgi),
            "Status: 200 OK\r\n"
            "Cache-Control: no-cache, no-store, must-revalidate\r\n"
            "Pragma: no-cache\r\n"
            "Expires: 0\r\n"
            "X-Accel-Buffering: no\r\n"
            "\r\n");
}

TEST(Header, FindIsCaseInsensitive) {
  ResponseHead head(200);
  head.add("Content-Type", "image/jpeg");
  EXPECT_EQ(head.find("content-type").value_or(""), "image/jpeg");
  EXPECT_FALSE(head.find("Content-Length").has_value());
}

TEST(Header, InvalidStatusBecomes500) {
  EXPECT_EQ(ResponseHead(42).status(), 500);
  EXPECT_EQ(ResponseHead(1000).status(), 500);
  EXPECT_EQ(ResponseHead(503).status(), 503);
  EXPECT_EQ(reason_phrase(503), "Service Unavailable");
}

}  // namespace
}  // namespace pushcgi
