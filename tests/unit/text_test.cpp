#include "pushcgi/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace pushcgi {
namespace {

TEST(Text, QuotedInputIsShortAndPrintable) {
  EXPECT_EQ(quote_input("ok"), "'ok'");
  EXPECT_EQ(quote_input("a\r\nb\x01"), "'a??b?'");
  EXPECT_EQ(quote_input(std::string(50, 'x')), "'" + std::string(40, 'x') + "...'");
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
