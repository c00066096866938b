#include "pushcgi/sse.hpp"

#include <gtest/gtest.h>

namespace pushcgi {
namespace {

std::string format(const Event& event) {
  std::string out;
  EXPECT_EQ(format_event(event, out), Error::none);
  return out;
}

TEST(Sse, PlainMessage) {
  EXPECT_EQ(format({"hello"}), "data: hello\n\n");
}

TEST(Sse, AllFieldsInOrder) {
  Event event;
  event.data = "payload";
  event.type = "snapshot";
  event.id = "42";
  event.retry = std::chrono::milliseconds(1000);
  EXPECT_EQ(format(event), "event: snapshot\nid: 42\nretry: 1000\ndata: payload\n\n");
}

TEST(Sse, DataIsSplitOnEveryLineEnd) {
  EXPECT_EQ(format({"a\r\nb\nc\rd"}), "data: a\ndata: b\ndata: c\ndata: d\n\n");
  EXPECT_EQ(format({"trailing\n"}), "data: trailing\ndata: \n\n");
  EXPECT_EQ(format({"\r\n\r\n"}), "data: \ndata: \ndata: \n\n");
}

TEST(Sse, EmptyDataIsOneEmptyLine) {
  EXPECT_EQ(format({""}), "data: \n\n");
}

TEST(Sse, EmptyIdIsSentToResetTheLastEventId) {
  Event event{"x"};
  event.id = "";
  EXPECT_EQ(format(event), "id: \ndata: x\n\n");
}

TEST(Sse, LineBreaksInTypeOrIdAreRefused) {
  std::string out = "before";
  Event event{"x"};
  event.type = "a\nb";
  EXPECT_EQ(format_event(event, out), Error::bad_event_field);
  event.type = "ok";
  event.id = "1\r2";
  EXPECT_EQ(format_event(event, out), Error::bad_event_field);
  event.id = std::string_view(
      "1\0"
      "2",
      3);
  EXPECT_EQ(format_event(event, out), Error::bad_event_field);
  EXPECT_EQ(out, "before");
}

TEST(Sse, CommentsPrefixEveryLine) {
  EXPECT_EQ(format_comment("ping"), ": ping\n");
  EXPECT_EQ(format_comment("a\nb"), ": a\n: b\n");
}

TEST(Sse, HeadIsEventStreamWithoutCachingOrBuffering) {
  EXPECT_EQ(event_stream_head().render(HeadStyle::cgi),
            "Status: 200 OK\r\n"
            "Content-Type: text/event-stream\r\n"
            "Cache-Control: no-cache, no-store, must-revalidate\r\n"
            "Pragma: no-cache\r\n"
            "Expires: 0\r\n"
            "X-Accel-Buffering: no\r\n"
            "\r\n");
}

}  // namespace
}  // namespace pushcgi
