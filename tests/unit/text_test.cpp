#include "pushcgi/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pushcgi {
namespace {

TEST(Text, QuotedInputIsShortAndPrintable) {
  EXPECT_EQ(quote_input("ok"), "'ok'");
  EXPECT_EQ(quote_input("a\r\nb\x01"), "'a??b?'");
  EXPECT_EQ(quote_input(std::string(50, 'x')), "'" + std::string(40, 'x') + "...'");
  // A URL's user-info and query may hold a password: a value meant for one option can be
  // quoted in another's error (--fps http://admin:pw@cam/).
  EXPECT_EQ(quote_input("http://admin:Secret9@cam.local/v.cgi"), "'http://***@cam.local/v.cgi'");
  EXPECT_EQ(quote_input("http://cam/v.cgi?user=a&pwd=Secret9"), "'http://cam/v.cgi?***'");
  EXPECT_EQ(quote_input("rtsp://a:b@c@cam:554/x?y"), "'rtsp://***@cam:554/x?***'");
  EXPECT_EQ(quote_input("http://cam/a@b"), "'http://cam/a@b'");
  EXPECT_EQ(quote_input("http://cam"), "'http://cam'");
}

TEST(Text, IequalsFoldsAsciiCaseOnly) {
  EXPECT_TRUE(iequals("Content-Type", "content-TYPE"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("Content-Type", "Content-Typ"));
  EXPECT_FALSE(iequals("a", "b"));
  EXPECT_FALSE(iequals("\xc3\x89", "\xc3\xa9"));  // É and é: not ASCII, not folded
}

}  // namespace
}  // namespace pushcgi
