// Several cameras behind the real web servers: /webcam/NAME/... reaches webcam.fcgi with
// PATH_INFO /NAME/... through every shipped configuration.
#include <gtest/gtest.h>

#include "pushcgi/jpeg.hpp"
#include "stack.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

class CameraPaths : public ::testing::TestWithParam<std::string> {};

TEST_P(CameraPaths, ReachTheProgramBelowTheCamerasName) {
  const std::string server = GetParam();
  // mod_fcgid and mod_cgid start the program themselves, with the shipped configuration's
  // options (one testcard): there the 404 quoting the path shows the PATH_INFO it got.
  const bool own_options = server == "nginx" || server == "apache-proxy";
  Stack stack(server, own_options ? "--source door=testcard --source yard=testcard --size "
                                    "door=160x120 --size yard=320x240"
                                  : "");
  ASSERT_TRUE(stack.ready()) << stack.log();
  if (!own_options) {
    for (const std::string path : {"/door/stream", "/door/", "/door"}) {
      HttpClient viewer;
      ASSERT_TRUE(viewer.get(stack.port(), "/webcam" + path));
      EXPECT_TRUE(viewer.read_to_end(10s));
      EXPECT_EQ(viewer.status(), 404) << viewer.response();
      EXPECT_EQ(viewer.body(), "no such page: '" + path + "'\n") << viewer.response();
    }
    return;
  }

  HttpClient viewer;
  ASSERT_TRUE(viewer.get(stack.port(), "/webcam/door/stream"));
  ASSERT_TRUE(viewer.read_until(has_parts(4), 15s)) << viewer.response() << stack.log();
  EXPECT_EQ(viewer.status(), 200);
  const std::vector<std::string> frames = part_bodies(viewer.response());
  ASSERT_GE(frames.size(), 3u);
  for (const std::string& frame : frames) {
    const auto info = inspect_jpeg(frame);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->width, 160) << "a frame of another camera";
  }

  const std::string snapshot = stack.get("/webcam/yard/snapshot");
  const auto yard = inspect_jpeg(body_of(snapshot));
  ASSERT_TRUE(yard) << snapshot.substr(0, 300);
  EXPECT_EQ(yard->width, 320);

  const std::string list = stack.get("/webcam/");
  EXPECT_NE(list.find("<a href=\"/webcam/door/\"><img src=\"/webcam/door/snapshot\""),
            std::string::npos)
      << list;
  EXPECT_NE(list.find("<a href=\"/webcam/yard/\">"), std::string::npos) << list;
  const std::string page = stack.get("/webcam/door/");
  EXPECT_NE(page.find("<img src=\"/webcam/door/stream\""), std::string::npos) << page;

  const std::string redirect = stack.get("/webcam/door");
  EXPECT_NE(redirect.find(" 301 "), std::string::npos) << redirect;
  EXPECT_NE(redirect.find("\r\nLocation: /webcam/door/\r\n"), std::string::npos) << redirect;

  const std::string state = body_of(stack.get("/webcam/door/state"));
  EXPECT_EQ(state.rfind("{\"name\":\"door\",\"open_streams\":1,", 0), 0u) << state;
  const std::string all = body_of(stack.get("/webcam/state"));
  EXPECT_NE(all.find("\"cameras\":[{\"name\":\"door\""), std::string::npos) << all;
  EXPECT_NE(all.find("{\"name\":\"yard\""), std::string::npos) << all;

  const std::string unknown = stack.get("/webcam/nope/stream");
  EXPECT_NE(unknown.find(" 404 "), std::string::npos) << unknown;
  EXPECT_EQ(body_of(unknown), "no camera named 'nope'\n") << unknown;
}

INSTANTIATE_TEST_SUITE_P(Servers, CameraPaths, ::testing::ValuesIn(kServers),
                         [](const auto& param_info) { return server_test_name(param_info.param); });

}  // namespace
}  // namespace pushcgi::test
