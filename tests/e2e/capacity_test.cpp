// Issue 12: streams do not hold a thread each. With the programs' default options, behind
// nginx as shipped, more viewers than there are worker threads are all served, and /state
// still answers while they are open.
#include <gtest/gtest.h>

#include <cstdio>
#include <functional>
#include <thread>

#include "stack.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

struct Viewers {
  const char* target;
  int count;
  std::function<bool(const std::string&)> served;  // its head and a first part or event
};

bool has_a_part(const std::string& response) {
  return !boundary_of(response).empty() && parts_done(response) >= 1;
}

bool has_an_event(const std::string& response) {
  return response.find("\r\n\r\n") != std::string::npos &&
         response.find("event: snapshot\n") != std::string::npos;
}

// A /state answered with 200 within timeout (a generous bound: a hang fails, not a slow
// machine); its open_streams, or -1.
long state_open_streams(int port, const std::string& program, std::chrono::milliseconds timeout,
                        std::string& response) {
  response = http_get(port, program + "/state", timeout);
  if (response.rfind("HTTP/1.1 200", 0) != 0 && response.rfind("HTTP/1.0 200", 0) != 0) return -1;
  return json_field(response, "open_streams");
}

TEST(Capacity, TwoHundredStreamsWithDefaultOptionsAreAllServedAndStateAnswers) {
  // No --threads or any other program option: what a new user gets from `make run`.
  Stack stack("nginx", "", {}, "", {});
  ASSERT_TRUE(stack.ready()) << stack.log();

  const std::vector<Viewers> kinds = {
      {"/webcam/stream", 100, has_a_part},
      {"/ps/events", 50, has_an_event},
      {"/ps/push?interval=1", 50, has_a_part},
  };
  std::vector<HttpClient> clients;
  std::vector<const Viewers*> kind_of;
  for (const Viewers& kind : kinds) {
    for (int i = 0; i < kind.count; ++i) {
      clients.emplace_back();
      ASSERT_TRUE(clients.back().get(stack.port(), kind.target)) << kind.target << " #" << i;
      kind_of.push_back(&kind);
    }
  }
  ASSERT_EQ(clients.size(), 200u);

  // All read at once (no socket buffer decides), each until it has its head and a first
  // part or event; then it stops reading but stays connected.
  std::vector<char> served(clients.size(), 0);  // not vector<bool>: one writer each
  std::vector<std::thread> readers;
  for (std::size_t i = 0; i < clients.size(); ++i) {
    readers.emplace_back([&, i] { served[i] = clients[i].read_until(kind_of[i]->served, 20s); });
  }
  for (std::thread& reader : readers) reader.join();

  for (const Viewers& kind : kinds) {
    int got = 0;
    std::string example;
    for (std::size_t i = 0; i < clients.size(); ++i) {
      if (kind_of[i] != &kind) continue;
      if (served[i] && clients[i].status() == 200) {
        ++got;
      } else if (example.empty()) {
        example = clients[i].response().substr(0, 200);
      }
    }
    std::printf("%s: %d of %d viewers served\n", kind.target, got, kind.count);
    EXPECT_EQ(got, kind.count) << kind.target << ": for example, one got '" << example << "'";
  }

  // While all 200 are open: both programs' /state answer, and count them.
  std::string response;
  EXPECT_EQ(state_open_streams(stack.port(), "/ps", 5s, response), 100)
      << "/ps/state: '" << response.substr(0, 300) << "'";
  EXPECT_EQ(state_open_streams(stack.port(), "/webcam", 5s, response), 100)
      << "/webcam/state: '" << response.substr(0, 300) << "'";

  for (HttpClient& client : clients) client.close();
  EXPECT_TRUE(stack.wait_open_streams("/ps", 0, 10s));
  EXPECT_TRUE(stack.wait_open_streams("/webcam", 0, 10s));
}

}  // namespace
}  // namespace pushcgi::test
