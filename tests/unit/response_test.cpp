#include "pushcgi/response.hpp"

#include <gtest/gtest.h>

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
  std::atomic<unsigned> open{0};
  StringSink sink;
  ScriptedWaiter waiter;
  {
    Response response(sink, waiter);
    response.limit_streams({&open});
    ResponseHead head(200);
    head.add_stream_headers();
    response.send_head(head);
    EXPECT_EQ(open.load(), 1u);
  }
  EXPECT_EQ(open.load(), 0u);
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

}  // namespace
}  // namespace pushcgi
