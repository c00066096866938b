#include "pushcgi/query.hpp"

#include <gtest/gtest.h>

namespace pushcgi {
namespace {

Query parse(std::string_view raw) {
  Parsed<Query> query = Query::parse(raw);
  EXPECT_TRUE(query) << query.error();
  return query.value();
}

TEST(Query, SplitsAndDecodes) {
  const Query query = parse("interval=5&sort=cpu&name=a+b%20c%2Fd&flag&=empty&&x=");
  EXPECT_EQ(query.get("interval").value_or("?"), "5");
  EXPECT_EQ(query.get("sort").value_or("?"), "cpu");
  EXPECT_EQ(query.get("name").value_or("?"), "a b c/d");
  EXPECT_EQ(query.get("flag").value_or("?"), "");
  EXPECT_EQ(query.get("").value_or("?"), "empty");
  EXPECT_EQ(query.get("x").value_or("?"), "");
  EXPECT_FALSE(query.get("missing"));
  EXPECT_EQ(query.items().size(), 6u);
}

TEST(Query, FirstValueWins) {
  EXPECT_EQ(parse("a=1&a=2").get("a").value_or(""), "1");
}

TEST(Query, EmptyQuery) {
  EXPECT_TRUE(parse("").items().empty());
}

TEST(Query, MalformedEscapesAreRefused) {
  for (const char* raw : {"a=%", "a=%2", "a=%zz", "%g0=1", "a=%00"}) {
    const Parsed<Query> query = Query::parse(raw);
    EXPECT_FALSE(query) << raw;
    EXPECT_EQ(query.error().rfind("malformed query parameter '", 0), 0u) << query.error();
  }
}

TEST(Query, SizeLimits) {
  EXPECT_FALSE(Query::parse(std::string(Query::kMaxBytes + 1, 'a')));
  EXPECT_TRUE(Query::parse(std::string(Query::kMaxBytes, 'a')));
  std::string many;
  for (std::size_t i = 0; i <= Query::kMaxParameters; ++i) many += "p=1&";
  const Parsed<Query> query = Query::parse(many);
  ASSERT_FALSE(query);
  EXPECT_EQ(query.error(), "more than 64 query parameters");
}

TEST(Query, UnsignedWithinBounds) {
  const Query query = parse("interval=7&zero=0&big=10000&word=abc&neg=-1&frac=1.5&pad=007");
  EXPECT_EQ(*query.get_unsigned("interval", 1, 3600, 5), 7u);
  EXPECT_EQ(*query.get_unsigned("absent", 1, 3600, 5), 5u);
  EXPECT_EQ(*query.get_unsigned("pad", 1, 3600, 5), 7u);
  EXPECT_EQ(query.get_unsigned("zero", 1, 3600, 5).error(),
            "zero: expected a whole number from 1 to 3600, got '0'");
  EXPECT_FALSE(query.get_unsigned("big", 1, 3600, 5));
  EXPECT_EQ(query.get_unsigned("word", 1, 3600, 5).error(),
            "word: expected a whole number from 1 to 3600, got 'abc'");
  EXPECT_FALSE(query.get_unsigned("neg", 1, 3600, 5));
  EXPECT_FALSE(query.get_unsigned("frac", 1, 3600, 5));
}

TEST(Query, Choice) {
  const Query query = parse("sort=cpu&bad=name");
  EXPECT_EQ(*query.get_choice("sort", {"pid", "cpu", "rss"}, "pid"), "cpu");
  EXPECT_EQ(*query.get_choice("absent", {"pid", "cpu"}, "pid"), "pid");
  EXPECT_EQ(query.get_choice("bad", {"pid", "cpu", "rss"}, "pid").error(),
            "bad: expected pid|cpu|rss, got 'name'");
}

TEST(Query, ParseNumber) {
  EXPECT_EQ(parse_number("0", 0, 10).value_or(99), 0u);
  EXPECT_FALSE(parse_number("", 0, 10));
  EXPECT_FALSE(parse_number("+1", 0, 10));
  EXPECT_FALSE(parse_number("11", 0, 10));
  EXPECT_FALSE(parse_number("99999999999999999999999", 0, ~0ULL));
}

}  // namespace
}  // namespace pushcgi
