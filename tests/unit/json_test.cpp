#include "pushcgi/json.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <vector>

namespace pushcgi {
namespace {

TEST(Json, StringAndNumber) {
  EXPECT_EQ(json_string("a\"b\\c\n<\x01"), "\"a\\\"b\\\\c\\n\\u003c\\u0001\"");
  EXPECT_EQ(json_number(1.5), "1.5");
  EXPECT_EQ(json_number(2.0), "2");
  EXPECT_EQ(json_number(-0.0001), "0");
}

TEST(Json, ObjectWritesFieldsInOrderWithoutSpaces) {
  const std::vector<JsonObject> viewers = {
      JsonObject().integer("sent", 3u).null("cap"),
      JsonObject().seconds("up", std::chrono::milliseconds(1500))};
  const JsonObject object =
      JsonObject()
          .integer("open_streams", 2)
          .object("source", JsonObject().string("describe", "a<b").boolean("running", true))
          .number("rate", 14.9996)
          .array("viewers", viewers)
          .array("none", {})
          .raw("raw", "[1]");
  EXPECT_EQ(object.text(),
            "{\"open_streams\":2,\"source\":{\"describe\":\"a\\u003cb\",\"running\":true},"
            "\"rate\":15,\"viewers\":[{\"sent\":3,\"cap\":null},{\"up\":1.5}],\"none\":[],"
            "\"raw\":[1]}");
  EXPECT_EQ(JsonObject().text(), "{}");
}

}  // namespace
}  // namespace pushcgi
