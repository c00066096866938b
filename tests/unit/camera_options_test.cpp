// webcam.fcgi's cameras from its command line (cgi/webcam/camera_options.hpp).
#include "camera_options.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pushcgi {
namespace {

// One command line: the options as webcam.fcgi adds them.
struct CommandLine {
  CommandLine() : options_("webcam.fcgi", "Cameras."), cameras_(options_) {}

  // The cameras, or an empty list with the error in error_.
  std::vector<CameraConfig> parse(std::vector<const char*> args) {
    args.insert(args.begin(), "webcam.fcgi");
    const auto result = options_.parse(static_cast<int>(args.size()), args.data());
    if (result.outcome != Options::Outcome::run) {
      error_ = result.message;
      return {};
    }
    SourceOptions common;
    common.max_frame_bytes = 12345;
    auto cameras = cameras_.cameras(common);
    error_ = cameras.error();
    return cameras.value();
  }

  Options options_;
  CameraOptions cameras_;
  std::string error_;
};

class CameraOptionsTest : public ::testing::Test, public CommandLine {};

TEST_F(CameraOptionsTest, NoSourceIsOnePlainTestcard) {
  const auto cameras = parse({});
  ASSERT_EQ(cameras.size(), 1u) << error_;
  EXPECT_EQ(cameras[0].name, "");
  EXPECT_EQ(cameras[0].spec, "testcard");
  EXPECT_EQ(cameras[0].source.fps, 15u);
  EXPECT_EQ(cameras[0].source.max_frame_bytes, 12345u);  // the common settings
  EXPECT_FALSE(cameras[0].skip_unchanged);
}

// A plain camera as before: the last --source wins, a label is taken whole (it may hold
// '='), --skip-unchanged sets it.
TEST_F(CameraOptionsTest, PlainSourceAsBefore) {
  const auto cameras = parse({"--source", "file:/a=b.jpg", "--source", "exec:cam --x=1",
                              "--source-label", "door=front", "--fps", "7", "--skip-unchanged"});
  ASSERT_EQ(cameras.size(), 1u) << error_;
  EXPECT_EQ(cameras[0].name, "");
  EXPECT_EQ(cameras[0].spec, "exec:cam --x=1");
  EXPECT_EQ(cameras[0].source.label, "door=front");
  EXPECT_EQ(cameras[0].source.fps, 7u);
  EXPECT_TRUE(cameras[0].skip_unchanged);
}

// A NAME= prefix sets one camera and wins over a value without one, in either order.
TEST_F(CameraOptionsTest, PrefixedSettingsWinWhateverTheOrder) {
  const auto cameras =
      parse({"--fps", "door=2", "--size", "yard=320x240", "--source", "door=testcard", "--fps", "5",
             "--source", "yard=exec:cam a=b", "--source", "gate-2=dir:/pics", "--size", "160x120",
             "--source-label", "yard=Yard = back", "--skip-unchanged=gate-2"});
  ASSERT_EQ(cameras.size(), 3u) << error_;
  EXPECT_EQ(cameras[0].name, "door");
  EXPECT_EQ(cameras[0].spec, "testcard");
  EXPECT_EQ(cameras[0].source.fps, 2u);
  EXPECT_EQ(cameras[0].source.width, 160);
  EXPECT_EQ(cameras[0].source.label, "");
  EXPECT_FALSE(cameras[0].skip_unchanged);
  EXPECT_EQ(cameras[1].name, "yard");
  EXPECT_EQ(cameras[1].spec, "exec:cam a=b");
  EXPECT_EQ(cameras[1].source.fps, 5u);
  EXPECT_EQ(cameras[1].source.width, 320);
  EXPECT_EQ(cameras[1].source.height, 240);
  EXPECT_EQ(cameras[1].source.label, "Yard = back");
  EXPECT_FALSE(cameras[1].skip_unchanged);
  EXPECT_EQ(cameras[2].name, "gate-2");
  EXPECT_EQ(cameras[2].source.fps, 5u);
  EXPECT_EQ(cameras[2].source.height, 120);
  EXPECT_TRUE(cameras[2].skip_unchanged);
}

// The label after NAME= has 80 characters at most, not NAME=TEXT; a plain camera's label is
// the whole value.
TEST_F(CameraOptionsTest, ALabelsLimitIsOnTheLabelAfterItsPrefix) {
  const std::string longest(80, 'x');
  const std::string prefixed = "door=" + longest;
  auto cameras = parse({"--source", "door=testcard", "--source-label", prefixed.c_str()});
  ASSERT_EQ(cameras.size(), 1u) << error_;
  EXPECT_EQ(cameras[0].source.label, longest);

  CommandLine plain;
  EXPECT_TRUE(plain.parse({"--source", "testcard", "--source-label", prefixed.c_str()}).empty());
  EXPECT_EQ(plain.error_.rfind("option --source-label: expected 1 to 80 printable characters", 0),
            0u)
      << plain.error_;

  CommandLine too_long;
  const std::string over = "door=" + longest + "x";
  EXPECT_TRUE(
      too_long.parse({"--source", "door=testcard", "--source-label", over.c_str()}).empty());
  EXPECT_EQ(
      too_long.error_.rfind("option --source-label: expected 1 to 80 printable characters", 0), 0u)
      << too_long.error_;
}

TEST_F(CameraOptionsTest, SkipUnchangedAloneSetsEveryCamera) {
  const auto cameras =
      parse({"--source", "a=testcard", "--skip-unchanged", "--source", "b=testcard"});
  ASSERT_EQ(cameras.size(), 2u) << error_;
  EXPECT_TRUE(cameras[0].skip_unchanged);
  EXPECT_TRUE(cameras[1].skip_unchanged);
}

TEST_F(CameraOptionsTest, ErrorsAreOneLineAndNameTheOption) {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases = {
      {{"--source", "a=testcard", "--source", "a=testcard"},
       "option --source: camera 'a' is named twice"},
      {{"--source", "a=testcard", "--source", "Door=testcard"},
       "option --source: expected a camera name of 1 to 32 characters a-z, 0-9, _ and - "
       "before the '=' of --source 2"},
      {{"--source", "state=testcard"},
       "option --source: 'state' cannot name a camera: /state lists them all"},
      {{"--source", "a="}, "option --source: camera 'a': expected a SPEC after the '='"},
      {{"--source", "testcard", "--source", "a=testcard"},
       "option --source: cannot mix a plain --source SPEC with named ones (NAME=SPEC): --source "
       "1 is plain, --source 2 names camera 'a'"},
      {{"--source", "a=testcard", "--source", "b=testcard", "--source", "testcard"},
       "option --source: cannot mix a plain --source SPEC with named ones (NAME=SPEC): --source "
       "3 is plain, --source 1 names camera 'a'"},
      {{"--fps", "b=3", "--source", "a=testcard"},
       "option --fps: no camera named 'b' (cameras: a)"},
      {{"--source", "a=testcard", "--size", "b=100x100"},
       "option --size: no camera named 'b' (cameras: a)"},
      {{"--source", "a=testcard", "--source-label", "b=B"},
       "option --source-label: no camera named 'b' (cameras: a)"},
      {{"--skip-unchanged=b", "--source", "a=testcard", "--source", "c=testcard"},
       "option --skip-unchanged: no camera named 'b' (cameras: a, c)"},
      {{"--fps", "a=3"},
       "option --fps: no camera named 'a' (name cameras with --source NAME=SPEC)"},
      {{"--fps", "a=0", "--source", "a=testcard"},
       "option --fps: expected a whole number from 1 to 120, got '0'"},
      {{"--skip-unchanged="}, "option --skip-unchanged: expected a camera's name after '='"},
  };
  for (const auto& [args, message] : cases) {
    CommandLine fresh;
    EXPECT_TRUE(fresh.parse(args).empty()) << message;
    EXPECT_EQ(fresh.error_, message);
  }
}

}  // namespace
}  // namespace pushcgi
