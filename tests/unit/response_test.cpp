#include "pushcgi/response.hpp"

#include <gtest/gtest.h>

#include "pushcgi/hub.hpp"
#include "support/fakes.hpp"

namespace pushcgi {
namespace {

using test::ScriptedWaiter;

TEST(Response, SendAddsContentLength) {
  StringSink sink;
  ScriptedWaiter waiter;
  Response response(sink, waiter);
  EXPECT_EQ(response.send(200, "text/plain", "hello\n"), WriteResult::ok);
  EXPECT_EQ(sink.data(),
            "Status: 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 6\r\n\r\nhello\n");
  EXPECT_EQ(response.status(), 200);
  EXPECT_FALSE(response.streaming());
  EXPECT_EQ(response.write({"more"}), WriteResult::refused);
}

TEST(Response, ErrorIsOneLineOfPlainText) {
  StringSink sink;
  ScriptedWaiter waiter;
  Response response(sink, waiter);
  response.send_error(400, "interval: expected a whole number from 1 to 3600, got 'x'");
  EXPECT_EQ(sink.data(),
            "Status: 400 Bad Request\r\n"
            "Content-Type: text/plain; charset=utf-8\r\n"
            "X-Content-Type-Options: nosniff\r\n"
            "Cache-Control: no-store\r\n"
            "Content-Length: 58\r\n"
            "\r\n"
            "interval: expected a whole number from 1 to 3600, got 'x'\n");
}

TEST(Response, HeadGoesOutOnce) {
  StringSink sink;
  ScriptedWaiter waiter;
  Response response(sink, waiter);
  EXPECT_EQ(response.write({"early"}), WriteResult::refused);
  EXPECT_EQ(response.send_head(ResponseHead(200)), WriteResult::ok);
  EXPECT_EQ(response.send_head(ResponseHead(200)), WriteResult::refused);
  EXPECT_EQ(response.write({"body"}), WriteResult::ok);
  EXPECT_EQ(sink.data(), "Status: 200 OK\r\n\r\nbody");
  EXPECT_EQ(response.bytes_sent(), sink.data().size());
}

TEST(Response, HeadWithInjectedHeaderBecomes500) {
  StringSink sink;
  ScriptedWaiter waiter;
  Response response(sink, waiter);
  ResponseHead head(200);
  head.add("Location", "/x\r\nSet-Cookie: session=stolen");
  EXPECT_EQ(response.send_head(head), WriteResult::refused);
  EXPECT_EQ(response.status(), 500);
  EXPECT_EQ(sink.data().rfind("Status: 500 Internal Server Error\r\n", 0), 0u);
  EXPECT_EQ(sink.data().find("Set-Cookie"), std::string::npos);
}

TEST(Response, NphStyleWritesTheStatusLine) {
  StringSink sink;
  ScriptedWaiter waiter;
  Response response(sink, waiter, HeadStyle::nph, "HTTP/1.0");
  response.send(204, "text/plain", "");
  EXPECT_EQ(sink.data(),
            "HTTP/1.0 204 No Content\r\nContent-Type: text/plain\r\nContent-Length: 0\r\n"
            "Connection: close\r\n\r\n");
}

TEST(Response, HeadRequestGetsTheHeadOnly) {
  StringSink sink;
  ScriptedWaiter waiter;
  Response response(sink, waiter, HeadStyle::cgi, "HTTP/1.1", true);
  ResponseHead head(200);
  head.add_stream_headers();
  EXPECT_EQ(response.send_head(head), WriteResult::ok);
  EXPECT_EQ(response.write({"part"}), WriteResult::closed);
  EXPECT_EQ(sink.data().find("part"), std::string::npos);
  EXPECT_FALSE(response.streaming());
}

TEST(Response, StreamsAreCountedWhileOpen) {
  StreamSlots slots(0, 0);
  StringSink sink;
  ScriptedWaiter waiter;
  {
    Response response(sink, waiter);
    response.use_slots(&slots, std::chrono::seconds(0));
    ResponseHead head(200);
    head.add_stream_headers();
    response.send_head(head);
    EXPECT_EQ(slots.open(), 1u);
    EXPECT_EQ(slots.blocking(), 1u);
  }
  EXPECT_EQ(slots.open(), 0u);
  EXPECT_EQ(slots.blocking(), 0u);
}

TEST(Response, BlockingStreamsBeyondTheirWorkersGet503) {
  StreamSlots slots(0, 1);
  StringSink first_sink;
  StringSink second_sink;
  ScriptedWaiter waiter;
  ResponseHead head(200);
  head.add_stream_headers();
  Response first(first_sink, waiter);
  first.use_slots(&slots, std::chrono::seconds(0));
  EXPECT_EQ(first.send_head(head), WriteResult::ok);
  Response second(second_sink, waiter);
  second.use_slots(&slots, std::chrono::seconds(0));
  EXPECT_EQ(second.send_head(head), WriteResult::refused);
  EXPECT_EQ(second_sink.data().rfind("Status: 503", 0), 0u) << second_sink.data();
  EXPECT_NE(second_sink.data().find("Retry-After: 10\r\n"), std::string::npos);
  EXPECT_NE(second_sink.data().find("1 workers busy with streams"), std::string::npos);
  EXPECT_EQ(slots.open(), 1u);
}

TEST(Response, APumpedStreamIsHandedOverWithItsSlot) {
  StreamSlots slots(1, 0);
  Hub<int> hub;
  StringSink sink;
  ScriptedWaiter waiter;
  ResponseHead head(200);
  head.add_stream_headers();
  Response response(sink, waiter);
  response.use_slots(&slots, std::chrono::seconds(0));
  ASSERT_TRUE(response.pump(head, "preamble",
                            Pump(hub, [](const Hub<int>::Value&, Parts&) { return true; })));
  EXPECT_NE(sink.data().find("\r\n\r\npreamble"), std::string::npos);
  std::optional<Response::Pumped> pumped = response.take_pumped();
  ASSERT_TRUE(pumped);
  EXPECT_TRUE(pumped->slot);
  EXPECT_EQ(slots.open(), 1u);
  EXPECT_EQ(slots.blocking(), 0u);
  // At the limit, the next one gets a 503 instead of its head.
  StringSink refused_sink;
  Response refused(refused_sink, waiter);
  refused.use_slots(&slots, std::chrono::seconds(0));
  EXPECT_FALSE(
      refused.pump(head, "", Pump(hub, [](const Hub<int>::Value&, Parts&) { return true; })));
  EXPECT_NE(refused_sink.data().find("too many viewers (1 streams open)"), std::string::npos);
  pumped.reset();
  EXPECT_EQ(slots.open(), 0u);
}

TEST(Response, ViewerLeavingIsRemembered) {
  StringSink sink(30);
  ScriptedWaiter waiter{Wake::deadline, Wake::viewer_left};
  Response response(sink, waiter);
  response.send_head(ResponseHead(200));
  EXPECT_EQ(response.wait_for(std::chrono::seconds(1)), Wake::deadline);
  EXPECT_EQ(response.write({std::string(40, 'x')}), WriteResult::closed);
  EXPECT_EQ(response.state(), WriteResult::closed);
  EXPECT_EQ(response.wait_for(std::chrono::seconds(1)), Wake::viewer_left);
  EXPECT_EQ(response.last_wake(), Wake::viewer_left);
}

// After reply_later the event loop writes the whole reply: the handler can send no head of
// its own (it used to go out before the reply), and the runtime takes the reply to hand
// over.
TEST(Response, AfterReplyLaterNoHeadGoesOut) {
  StreamSlots slots(0, 0);
  Hub<int> hub;
  StringSink sink;
  ScriptedWaiter waiter;
  Response response(sink, waiter);
  response.use_slots(&slots, std::chrono::seconds(0));
  ASSERT_TRUE(response.reply_later(Pump(hub, [](const Hub<int>::Value&, Parts&) {
                                     return true;
                                   }).once(std::chrono::seconds(5), "none")));
  EXPECT_EQ(slots.replies(), 1u);

  EXPECT_EQ(response.send_head(ResponseHead(200)), WriteResult::refused);
  EXPECT_EQ(sink.data(), "");
  EXPECT_FALSE(response.head_sent());

  std::optional<Response::Pumped> pumped = response.take_pumped();
  ASSERT_TRUE(pumped);
  ASSERT_TRUE(pumped->pump);
  EXPECT_TRUE(pumped->pump->is_once());
  EXPECT_TRUE(pumped->slot);
  pumped.reset();
  EXPECT_EQ(slots.replies(), 0u);
}

// Nor a stream besides (pump() used to send its head and preamble, take a stream slot and
// put its stream in the reply's place, which was lost), nor a second reply.
TEST(Response, AfterReplyLaterNoPumpAndNoSecondReplyStart) {
  StreamSlots slots(0, 0);
  Hub<int> hub;
  StringSink sink;
  ScriptedWaiter waiter;
  const auto render = [](const Hub<int>::Value&, Parts&) { return true; };
  ResponseHead stream_head(200);
  stream_head.add_stream_headers();
  Response response(sink, waiter);
  response.use_slots(&slots, std::chrono::seconds(0));
  ASSERT_TRUE(response.reply_later(Pump(hub, render).once(std::chrono::seconds(5), "none")));

  EXPECT_FALSE(response.pump(stream_head, "preamble", Pump(hub, render)));
  EXPECT_FALSE(response.reply_later(Pump(hub, render).once(std::chrono::seconds(5), "none")));
  EXPECT_EQ(sink.data(), "");
  EXPECT_EQ(slots.open(), 0u);
  EXPECT_EQ(slots.replies(), 1u);

  std::optional<Response::Pumped> pumped = response.take_pumped();
  ASSERT_TRUE(pumped);
  ASSERT_TRUE(pumped->pump);
  EXPECT_TRUE(pumped->pump->is_once());
}

}  // namespace
}  // namespace pushcgi
