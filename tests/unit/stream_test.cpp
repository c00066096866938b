// MultipartStream and EventStream over an in-memory sink.
#include <gtest/gtest.h>

#include "pushcgi/event_stream.hpp"
#include "pushcgi/multipart_stream.hpp"
#include "support/fakes.hpp"
#include "support/figures.hpp"

namespace pushcgi {
namespace {

using test::boundary_of;
using test::ScriptedWaiter;

Request request_with(std::string user_agent, std::string query = "") {
  return Request(Params{{"REQUEST_METHOD", "GET"},
                        {"HTTP_USER_AGENT", std::move(user_agent)},
                        {"QUERY_STRING", std::move(query)}});
}

// A response over an in-memory sink.
struct Exchange {
  explicit Exchange(std::size_t fail_after = static_cast<std::size_t>(-1)) : sink(fail_after) {}
  // What followed the response head.
  std::string body() const {
    const std::string head_end = "X-Accel-Buffering: no\r\n\r\n";
    return sink.data().substr(sink.data().find(head_end) + head_end.size());
  }

  StringSink sink;
  ScriptedWaiter waiter;
  Response response{sink, waiter};
};

TEST(MultipartStream, BrowserStreamFromStartToClose) {
  Exchange x;
  const Request request = request_with("Mozilla/5.0 (X11; Linux x86_64)");
  {
    MultipartStream stream(request, x.response, "text/plain");
    ASSERT_TRUE(stream.start());
    EXPECT_TRUE(stream.send("1\n"));
    EXPECT_TRUE(stream.send("2\n"));
  }
  const std::string b = boundary_of(x.sink.data());
  const std::string block = "\r\n--" + b + "\r\nContent-Type: text/plain\r\n\r\n";
  EXPECT_EQ(x.body(), "--" + b + "\r\nContent-Type: text/plain\r\n\r\n" + "1\n" + block + "2\n" +
                          block + "\r\n--" + b + "--\r\n");
}

TEST(MultipartStream, LengthFramingForOtherClients) {
  Exchange x;
  const Request request = request_with("Lavf/59.27.100");
  MultipartStream stream(request, x.response, "image/jpeg");
  ASSERT_TRUE(stream.start());
  const std::chrono::system_clock::time_point produced{std::chrono::microseconds(1500000)};
  EXPECT_TRUE(stream.send("JPEG", produced));
  const std::string b = boundary_of(x.sink.data());
  EXPECT_NE(x.sink.data().find("--" + b +
                               "\r\nContent-Type: image/jpeg\r\nContent-Length: 4\r\n"
                               "X-Timestamp: 1.500000\r\n\r\nJPEG\r\n--" +
                               b + "\r\n"),
            std::string::npos);
}

TEST(MultipartStream, BadFramingQueryIs400) {
  Exchange x;
  const Request request = request_with("Mozilla/5.0", "framing=sideways");
  MultipartStream stream(request, x.response, "text/plain");
  EXPECT_FALSE(stream.start());
  EXPECT_FALSE(stream.send("x"));
  EXPECT_EQ(x.response.status(), 400);
  EXPECT_NE(x.sink.data().find("\r\n\r\nframing: expected browser|length, got 'sideways'\n"),
            std::string::npos);
}

TEST(MultipartStream, PartHoldingTheBoundaryIsRefusedAndTheStreamGoesOn) {
  Exchange x;
  const Request request = request_with("curl/8");
  MultipartStream stream(request, x.response, "text/plain");
  ASSERT_TRUE(stream.start());
  const std::string forged = "x\r\n--" + stream.writer()->boundary() + "\r\n";
  const std::size_t before = x.sink.data().size();
  EXPECT_FALSE(stream.send(forged));
  EXPECT_EQ(x.sink.data().size(), before);
  EXPECT_TRUE(stream.open());
  EXPECT_TRUE(stream.send("fine"));
}

TEST(MultipartStream, ViewerGoneEndsTheStreamWithoutCloseDelimiter) {
  Exchange x(300);
  const Request request = request_with("curl/8");
  MultipartStream stream(request, x.response, "text/plain");
  ASSERT_TRUE(stream.start());
  EXPECT_FALSE(stream.send(std::string(400, 'x')));
  EXPECT_FALSE(stream.open());
  const std::size_t size = x.sink.data().size();
  stream.close();
  EXPECT_EQ(x.sink.data().size(), size);
}

TEST(EventStream, StartRetryEventsAndComments) {
  Exchange x;
  Request request(Params{{"REQUEST_METHOD", "GET"}, {"HTTP_LAST_EVENT_ID", "41"}});
  EventStream stream(request, x.response);
  EXPECT_EQ(stream.last_event_id().value_or(""), "41");
  ASSERT_TRUE(stream.start(std::chrono::milliseconds(1000)));
  Event event{"line 1\nline 2"};
  event.id = "42";
  EXPECT_TRUE(stream.send(event));
  EXPECT_TRUE(stream.comment("heartbeat"));
  EXPECT_EQ(x.body(), "retry: 1000\n\nid: 42\ndata: line 1\ndata: line 2\n\n: heartbeat\n");
  EXPECT_TRUE(x.response.streaming());
}

TEST(EventStream, RefusedEventLeavesTheStreamOpen) {
  Exchange x;
  Request request(Params{{"REQUEST_METHOD", "GET"}});
  EventStream stream(request, x.response);
  ASSERT_TRUE(stream.start());
  Event event{"x"};
  event.type = "bad\ntype";
  EXPECT_FALSE(stream.send(event));
  EXPECT_TRUE(stream.open());
  EXPECT_EQ(x.sink.data().find("bad"), std::string::npos);
}

}  // namespace
}  // namespace pushcgi
