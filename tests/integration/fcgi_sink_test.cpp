// FcgiSink over a real fcgi2 request: both of its write paths, in order, and the viewer
// leaving reported as closed although fcgi2's own return values say otherwise.
#include "pushcgi/fcgi_sink.hpp"

#include <fcgiapp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>

#include <functional>
#include <thread>

#include "runtime/listener.hpp"
#include "support/fcgi_client.hpp"
#include "support/process.hpp"

namespace pushcgi {
namespace {

using namespace std::chrono_literals;

class FcgiSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(FCGX_Init(), 0);
    auto listener = detail::Listener::open(*detail::parse_socket_spec(dir_.file("s.sock")), 0600);
    ASSERT_TRUE(listener) << listener.error();
    listener_ = std::move(listener.value());
  }

  // Accepts one request and runs body on it.
  std::thread serve_one(std::function<void(FCGX_Request&)> body) {
    return std::thread([this, body = std::move(body)] {
      FCGX_Request request;
      FCGX_InitRequest(&request, listener_.fd(), 0);
      if (FCGX_Accept_r(&request) == 0) {
        char discard[64];
        while (FCGX_GetStr(discard, sizeof discard, request.in) > 0) {
        }
        body(request);
        FCGX_Finish_r(&request);
      }
      FCGX_Free(&request, 1);
    });
  }

  test::TempDir dir_;
  detail::Listener listener_;
};

TEST_F(FcgiSinkTest, SmallAndLargeWritesArriveInOrder) {
  std::string big(200000, '\0');
  for (std::size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('a' + i % 26);
  std::vector<WriteResult> results;
  std::thread server = serve_one([&](FCGX_Request& request) {
    FcgiSink sink(request);
    results.push_back(sink.write({"Status: 200 OK\r\n\r\n"}));
    results.push_back(sink.write({"<head>", big, "<tail>"}));  // direct records
    results.push_back(sink.write({"small", "-", "again"}));    // through fcgi2
    results.push_back(sink.write({std::string_view(big).substr(0, FcgiSink::kDirectBytes)}));
  });
  test::FcgiClient client;
  ASSERT_TRUE(client.connect_unix(dir_.file("s.sock")));
  ASSERT_TRUE(client.send_request(test::get_params("/")));
  ASSERT_TRUE(client.read_to_end(10s));
  client.close();
  server.join();
  EXPECT_EQ(results, std::vector<WriteResult>(4, WriteResult::ok));
  EXPECT_TRUE(client.ended());
  const std::string expected = "Status: 200 OK\r\n\r\n<head>" + big + "<tail>small-again" +
                               big.substr(0, FcgiSink::kDirectBytes);
  ASSERT_EQ(client.out().size(), expected.size());
  EXPECT_TRUE(client.out() == expected);
}

TEST_F(FcgiSinkTest, ViewerGoneIsClosedOnBothPaths) {
  for (const std::size_t size : {std::size_t{16}, std::size_t{100000}}) {
    WriteResult first = WriteResult::ok;
    WriteResult second = WriteResult::ok;
    std::thread server = serve_one([&](FCGX_Request& request) {
      pollfd gone{request.ipcFd, POLLRDHUP, 0};
      poll(&gone, 1, 5000);
      FcgiSink sink(request);
      const std::string body(size, 'x');
      first = sink.write({body});
      second = sink.write({"more"});
    });
    {
      test::FcgiClient client;
      ASSERT_TRUE(client.connect_unix(dir_.file("s.sock")));
      ASSERT_TRUE(client.send_request(test::get_params("/")));
    }  // closed
    server.join();
    EXPECT_EQ(first, WriteResult::closed) << size;
    EXPECT_EQ(second, WriteResult::closed) << size;
  }
}

}  // namespace
}  // namespace pushcgi
