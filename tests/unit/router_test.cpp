#include "pushcgi/router.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

#include "pushcgi/multipart_stream.hpp"
#include "support/fakes.hpp"

namespace pushcgi {
namespace {

using test::ScriptedWaiter;

class RouterTest : public ::testing::Test {
 protected:
  RouterTest() {
    router_.add("/", [](const Request&, Response& response) {
      response.send(200, "text/plain", "root\n");
    });
    router_.add("/echo", [](const Request& request, Response& response) {
      const Parsed<unsigned> n = request.query().get_unsigned("n", 1, 10, 1);
      if (!n) {
        response.send_error(400, n.error());
        return;
      }
      response.send(200, "text/plain", std::to_string(*n));
    });
    router_.add("/throws", [](const Request&, Response&) { throw std::runtime_error("bug"); });
    router_.add("/silent", [](const Request&, Response&) {});
    router_.add("/stream", [this](const Request& request, Response& response) {
      MultipartStream stream(request, response, "text/plain");
      stream.start();
      streams_seen_ = slots_.open();
      stream.send("x");
    });
  }

  std::string serve(std::string method, std::string path, std::string query = "", Params more = {},
                    const Router::BodyIsEmpty& body_is_empty = {}) {
    StringSink sink;
    ScriptedWaiter waiter;
    Params params{{"REQUEST_METHOD", std::move(method)},
                  {"PATH_INFO", std::move(path)},
                  {"QUERY_STRING", std::move(query)}};
    params.insert(params.end(), more.begin(), more.end());
    Router::Context context;
    context.slots = &slots_;
    context.body_is_empty = body_is_empty;
    router_.serve(std::move(params), sink, waiter, context);
    return sink.data();
  }

  static std::string status_line(const std::string& response) {
    return response.substr(0, response.find("\r\n"));
  }
  static std::string body(const std::string& response) {
    return response.substr(response.find("\r\n\r\n") + 4);
  }

  Router router_;
  StreamSlots slots_{0, 0};
  unsigned streams_seen_ = 0;
};

TEST_F(RouterTest, EmptyPathInfoIsTheRoot) {
  EXPECT_EQ(body(serve("GET", "")), "root\n");
  EXPECT_EQ(body(serve("GET", "/")), "root\n");
}

TEST_F(RouterTest, UnknownPathIs404) {
  const std::string response = serve("GET", "/nope");
  EXPECT_EQ(status_line(response), "Status: 404 Not Found");
  EXPECT_EQ(body(response), "no such page: '/nope'\n");
}

// A fallback gets the paths without a route, after the same checks; the routes still win.
TEST_F(RouterTest, FallbackServesPathsWithoutARoute) {
  router_.set_fallback([](const Request& request, Response& response) {
    response.send_error(404, "no camera named " + std::string(request.path()));
  });
  const std::string response = serve("GET", "/door/stream");
  EXPECT_EQ(status_line(response), "Status: 404 Not Found");
  EXPECT_EQ(body(response), "no camera named /door/stream\n");
  EXPECT_EQ(body(serve("GET", "/")), "root\n");
  EXPECT_EQ(status_line(serve("POST", "/door")), "Status: 405 Method Not Allowed");
  EXPECT_EQ(status_line(serve("GET", "/door", "a=%zz")), "Status: 400 Bad Request");
}

TEST_F(RouterTest, OnlyGetAndHead) {
  const std::string response = serve("POST", "/");
  EXPECT_EQ(status_line(response), "Status: 405 Method Not Allowed");
  EXPECT_NE(response.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
  EXPECT_EQ(status_line(serve("HEAD", "/")), "Status: 200 OK");
  EXPECT_EQ(body(serve("HEAD", "/")), "");
}

// The body is looked at only for a request that passed every other check, and then only up
// to its first byte: a body is refused, never read.
TEST_F(RouterTest, ABodyIs413WithoutBeingRead) {
  unsigned body_checks = 0;
  const auto empty = [&body_checks] { return ++body_checks, true; };
  const auto not_empty = [&body_checks] { return ++body_checks, false; };
  EXPECT_EQ(status_line(serve("POST", "/", "", {{"CONTENT_LENGTH", "5"}}, empty)),
            "Status: 405 Method Not Allowed");
  EXPECT_EQ(body_checks, 0u);
  const std::string announced = serve("GET", "/", "", {{"CONTENT_LENGTH", "5"}}, empty);
  EXPECT_EQ(status_line(announced), "Status: 413 Content Too Large");
  EXPECT_EQ(body(announced), "a request body is not accepted\n");
  EXPECT_EQ(status_line(serve("GET", "/", "", {{"HTTP_TRANSFER_ENCODING", "chunked"}}, empty)),
            "Status: 413 Content Too Large");
  EXPECT_EQ(body_checks, 0u);
  EXPECT_EQ(status_line(serve("GET", "/", "", {{"CONTENT_LENGTH", ""}}, not_empty)),
            "Status: 413 Content Too Large");
  EXPECT_EQ(body_checks, 1u);
  EXPECT_EQ(body(serve("GET", "/", "", {{"CONTENT_LENGTH", "0"}}, empty)), "root\n");
  EXPECT_EQ(body(serve("HEAD", "/", "", {{"CONTENT_LENGTH", ""}}, empty)), "");
  EXPECT_EQ(body_checks, 3u);
}

TEST_F(RouterTest, MalformedQueryIs400) {
  const std::string response = serve("GET", "/echo", "n=%zz");
  EXPECT_EQ(status_line(response), "Status: 400 Bad Request");
  EXPECT_EQ(body(response), "malformed query parameter 'n=%zz'\n");
}

TEST_F(RouterTest, HandlerValidatesItsParameters) {
  EXPECT_EQ(body(serve("GET", "/echo", "n=7")), "7");
  const std::string response = serve("GET", "/echo", "n=70");
  EXPECT_EQ(status_line(response), "Status: 400 Bad Request");
  EXPECT_EQ(body(response), "n: expected a whole number from 1 to 10, got '70'\n");
}

TEST_F(RouterTest, ThrowingHandlerGets500AndTheNextRequestIsServed) {
  EXPECT_EQ(status_line(serve("GET", "/throws")), "Status: 500 Internal Server Error");
  EXPECT_EQ(body(serve("GET", "/")), "root\n");
}

TEST_F(RouterTest, HandlerThatSendsNothingGets500) {
  EXPECT_EQ(status_line(serve("GET", "/silent")), "Status: 500 Internal Server Error");
}

TEST_F(RouterTest, StreamsAreCountedWhileTheyRun) {
  serve("GET", "/stream");
  EXPECT_EQ(streams_seen_, 1u);
  EXPECT_EQ(slots_.open(), 0u);
}

TEST(Request, VariablesAndHeaders) {
  Request request(Params{{"REQUEST_METHOD", "HEAD"},
                         {"PATH_INFO", ""},
                         {"HTTP_LAST_EVENT_ID", "7"},
                         {"HTTP_USER_AGENT", "Mozilla/5.0"}});
  EXPECT_EQ(request.method(), "HEAD");
  EXPECT_EQ(request.path(), "/");
  EXPECT_EQ(request.header("Last-Event-ID").value_or(""), "7");
  EXPECT_EQ(request.header("last-event-id").value_or(""), "7");
  EXPECT_EQ(request.user_agent(), "Mozilla/5.0");
  EXPECT_FALSE(request.header("Cookie"));
  EXPECT_EQ(Request(Params{}).method(), "GET");
}

TEST(Request, ParamsFromEnvironment) {
  const char* env[] = {"A=1", "B==2", "NOEQUALS", "C=", nullptr};
  const Params params = Request::params_from_environment(env);
  ASSERT_EQ(params.size(), 3u);
  EXPECT_EQ(params[0], (std::pair<std::string, std::string>{"A", "1"}));
  EXPECT_EQ(params[1], (std::pair<std::string, std::string>{"B", "=2"}));
  EXPECT_EQ(params[2], (std::pair<std::string, std::string>{"C", ""}));
}

}  // namespace
}  // namespace pushcgi
