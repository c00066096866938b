// examples/hello_many: the pump API serving many viewers from two worker threads.
#include <gtest/gtest.h>

#include <vector>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

TEST(HelloMany, TwoHundredViewersOnTwoThreadsGetTheSameCounter) {
  constexpr unsigned kViewers = 200;
  FcgiProgram program("hello_many", 2);
  std::vector<FcgiClient> viewers;
  for (unsigned i = 0; i < kViewers; ++i) viewers.push_back(program.request("/"));
  for (FcgiClient& viewer : viewers) {
    ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 2; }, 20s))
        << viewer.out();
  }
  // Every viewer counts on from where it joined, one by one, and /state-like figures are
  // not needed: the parts are the counter's values in order.
  for (FcgiClient& viewer : viewers) {
    const std::vector<std::string> got = part_bodies(viewer.out());
    ASSERT_GE(got.size(), 2u);
    EXPECT_EQ(std::stoul(got[1]), std::stoul(got[0]) + 1) << got[0] << " " << got[1];
  }
  // Both workers are free: a further viewer is served at once.
  FcgiClient late = program.request("/");
  EXPECT_TRUE(late.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 5s));
}

}  // namespace
}  // namespace pushcgi::test
