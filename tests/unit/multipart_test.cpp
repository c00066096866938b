#include "pushcgi/multipart.hpp"

#include <gtest/gtest.h>

#include <set>
#include <stdexcept>

namespace pushcgi {
namespace {

using std::chrono::microseconds;
using std::chrono::system_clock;

const system_clock::time_point kProduced{microseconds(1732181234123456LL)};

TEST(Multipart, BrowserFramingSendsTheNextHeaderBlockRightAfterEachBody) {
  const MultipartWriter writer(Framing::browser, "image/jpeg", {}, "B0undary");
  EXPECT_EQ(writer.preamble(), "--B0undary\r\nContent-Type: image/jpeg\r\n\r\n");
  PartFrame frame;
  ASSERT_EQ(writer.frame("JPEG", kProduced, frame), Error::none);
  EXPECT_EQ(frame.head, "");
  EXPECT_EQ(frame.tail, "\r\n--B0undary\r\nContent-Type: image/jpeg\r\n\r\n");
  EXPECT_EQ(writer.close_delimiter(), "\r\n--B0undary--\r\n");
}

TEST(Multipart, BrowserFramingWholeStream) {
  const MultipartWriter writer(Framing::browser, "text/plain", {}, "xyz");
  std::string stream = writer.preamble();
  PartFrame frame;
  for (std::string_view body : {"1\n", "2\n"}) {
    ASSERT_EQ(writer.frame(body, kProduced, frame), Error::none);
    stream += frame.head + std::string(body) + frame.tail;
  }
  stream += writer.close_delimiter();
  EXPECT_EQ(stream,
            "--xyz\r\nContent-Type: text/plain\r\n\r\n"
            "1\n\r\n--xyz\r\nContent-Type: text/plain\r\n\r\n"
            "2\n\r\n--xyz\r\nContent-Type: text/plain\r\n\r\n"
            "\r\n--xyz--\r\n");
}

TEST(Multipart, LengthFramingCarriesLengthAndTimestamp) {
  const MultipartWriter writer(Framing::length, "image/jpeg", {}, "B0undary");
  EXPECT_EQ(writer.preamble(), "--B0undary\r\n");
  PartFrame frame;
  ASSERT_EQ(writer.frame("JPEGDATA", kProduced, frame), Error::none);
  EXPECT_EQ(frame.head,
            "Content-Type: image/jpeg\r\n"
            "Content-Length: 8\r\n"
            "X-Timestamp: 1732181234.123456\r\n"
            "\r\n");
  EXPECT_EQ(frame.tail, "\r\n--B0undary\r\n");
  EXPECT_EQ(writer.close_delimiter(), "\r\n--B0undary--\r\n");
}

TEST(Multipart, ExtraPartHeadersGoInEveryHeaderBlock) {
  const std::vector<Header> extra = {{"X-Frame", "yes"}};
  const MultipartWriter browser(Framing::browser, "image/jpeg", extra, "b");
  EXPECT_EQ(browser.preamble(), "--b\r\nContent-Type: image/jpeg\r\nX-Frame: yes\r\n\r\n");
  const MultipartWriter length(Framing::length, "image/jpeg", extra, "b");
  PartFrame frame;
  ASSERT_EQ(length.frame("", kProduced, frame), Error::none);
  EXPECT_EQ(frame.head,
            "Content-Type: image/jpeg\r\nContent-Length: 0\r\n"
            "X-Timestamp: 1732181234.123456\r\nX-Frame: yes\r\n\r\n");
}

TEST(Multipart, BodyContainingTheBoundaryIsRefused) {
  const MultipartWriter writer(Framing::length, "text/plain", {}, "B0undary");
  PartFrame frame{"untouched", "untouched"};
  EXPECT_EQ(writer.frame("abc\r\n--B0undary\r\nforged", kProduced, frame), Error::boundary_in_body);
  EXPECT_EQ(writer.frame("--B0undary--", kProduced, frame), Error::boundary_in_body);
  EXPECT_EQ(frame.head, "untouched");
  EXPECT_EQ(writer.frame("B0undary without dashes", kProduced, frame), Error::none);
}

TEST(Multipart, ResponseHeadNamesTheBoundary) {
  const MultipartWriter writer(Framing::browser, "image/jpeg", {}, "B0undary");
  EXPECT_EQ(writer.response_head().render(HeadStyle::cgi),
            "Status: 200 OK\r\n"
            "Content-Type: multipart/x-mixed-replace; boundary=B0undary\r\n"
            "Cache-Control: no-cache, no-store, must-revalidate\r\n"
            "Pragma: no-cache\r\n"
            "Expires: 0\r\n"
            "X-Accel-Buffering: no\r\n"
            "\r\n");
}

TEST(Multipart, InvalidConstantsAreRejectedAtConstruction) {
  EXPECT_THROW(MultipartWriter(Framing::browser, "image/jpeg", {}, "bad\r\nboundary"),
               std::invalid_argument);
  EXPECT_THROW(MultipartWriter(Framing::browser, "image/jpeg\r\nX: y", {}, "b"),
               std::invalid_argument);
  EXPECT_THROW(MultipartWriter(Framing::browser, "image/jpeg", {{"X-A", "1\n2"}}, "b"),
               std::invalid_argument);
  EXPECT_THROW(MultipartWriter(Framing::browser, "", {}, "b"), std::invalid_argument);
}

TEST(Multipart, BoundaryCharactersFollowRfc2046) {
  EXPECT_TRUE(is_valid_boundary("a"));
  EXPECT_TRUE(is_valid_boundary(std::string(70, 'x')));
  EXPECT_FALSE(is_valid_boundary(std::string(71, 'x')));
  EXPECT_FALSE(is_valid_boundary(""));
  EXPECT_TRUE(is_valid_boundary("with space inside"));
  EXPECT_FALSE(is_valid_boundary("ends in space "));
  EXPECT_TRUE(is_valid_boundary("'()+_,-./:=?"));
  EXPECT_FALSE(is_valid_boundary("semi;colon"));
  EXPECT_FALSE(is_valid_boundary("quote\""));
}

TEST(Multipart, RandomBoundaryHas128BitsAndIsValid) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string boundary = random_boundary();
    EXPECT_TRUE(is_valid_boundary(boundary)) << boundary;
    ASSERT_EQ(boundary.size(), 8u + 32u);
    EXPECT_EQ(boundary.substr(0, 8), "pushcgi-");
    EXPECT_EQ(boundary.find_first_not_of("0123456789abcdef", 8), std::string::npos);
    seen.insert(boundary);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Multipart, FramingFollowsUserAgentUnlessOverridden) {
  const std::string firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101";
  EXPECT_EQ(*choose_framing(firefox, std::nullopt), Framing::browser);
  EXPECT_EQ(*choose_framing("Lavf/59.27.100", std::nullopt), Framing::length);
  EXPECT_EQ(*choose_framing("curl/7.88.1", std::nullopt), Framing::length);
  EXPECT_EQ(*choose_framing("", std::nullopt), Framing::length);
  EXPECT_EQ(*choose_framing(firefox, "length"), Framing::length);
  EXPECT_EQ(*choose_framing("VLC/3.0.18", "browser"), Framing::browser);
  const Parsed<Framing> bad = choose_framing(firefox, "fast");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error(), "framing: expected browser|length, got 'fast'");
}

TEST(Multipart, TimestampIsSecondsDotMicroseconds) {
  EXPECT_EQ(format_timestamp(kProduced), "1732181234.123456");
  EXPECT_EQ(format_timestamp(system_clock::time_point{microseconds(5)}), "0.000005");
}

}  // namespace
}  // namespace pushcgi
