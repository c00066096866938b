// An exec: command's arguments (a camera's password, a URL's user-info) stay out of every
// response and every log line of webcam.fcgi.
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

constexpr const char* kMarker = "Marker7q3";

// mjpeg_loop ignores arguments it does not know, as the password of an IP camera's URL; it
// exits after a few frames, so that the restart and its warning are logged too.
std::string secret_source() {
  return "exec:" + test_bin_path("mjpeg_loop") +
         " --fps 30 --frames 10 -i rtsp://admin:" + kMarker +
         "@camera.example/stream --password=" + kMarker;
}

// Every route of webcam.fcgi, good and bad; the responses, joined.
std::string visit_every_route(FcgiProgram& webcam) {
  std::string seen;
  FcgiClient viewer = webcam.request("/stream");
  viewer.read_until([](const std::string& out) { return parts_done(out) >= 2; }, 10s);
  seen += viewer.out();
  viewer.close();
  for (const auto& [path, query] : std::initializer_list<std::pair<const char*, const char*>>{
           {"/", ""},
           {"/", "mode=pull&interval=2"},
           {"/snapshot", ""},
           {"/state", ""},
           {"/nowhere", ""},        // 404
           {"/stream", "fps=abc"},  // 400
           {"/", "mode=video"},     // 400
       }) {
    seen += webcam.fetch(path, query);
  }
  return seen;
}

// Waits for the child's first exit to be counted, so that its warning is in the log.
std::string state_after_an_incident(FcgiProgram& webcam) {
  std::string state;
  const auto deadline = std::chrono::steady_clock::now() + 10s;
  while (json_field(state = webcam.fetch("/state"), "incidents") < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    FcgiClient viewer = webcam.request("/stream");  // keeps the source running a while
    viewer.read_until([](const std::string&) { return false; }, 100ms);
  }
  return state;
}

TEST(SourcePrivacy, ExecArgumentsAppearInNoResponseAndNoLogLine) {
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", secret_source(), "--log-level", "info", "--linger", "1"});
  std::string seen = visit_every_route(webcam);
  const std::string state = state_after_an_incident(webcam);
  seen += state;
  EXPECT_EQ(json_field(state, "incidents"), 1) << state;
  EXPECT_NE(state.find("\"describe\":\"exec: mjpeg_loop\""), std::string::npos) << state;
  EXPECT_EQ(seen.find(kMarker), std::string::npos) << seen.substr(0, 2000);
  const std::string log = webcam.log();
  EXPECT_NE(log.find("exec: mjpeg_loop"), std::string::npos) << log;  // the log is there
  EXPECT_EQ(log.find(kMarker), std::string::npos) << log;
  EXPECT_EQ(log.find("rtsp://"), std::string::npos) << log;
}

TEST(SourcePrivacy, TheOperatorsLabelNamesTheSource) {
  FcgiProgram webcam("webcam.fcgi", 4,
                     {"--source", secret_source(), "--source-label", "Front door"});
  const std::string state = webcam.fetch("/state");
  EXPECT_NE(state.find("\"describe\":\"Front door\""), std::string::npos) << state;
  FcgiClient viewer = webcam.request("/stream");
  ASSERT_TRUE(viewer.read_until([](const std::string& out) { return parts_done(out) >= 1; }, 10s));
  EXPECT_NE(webcam.log().find("starting the source: Front door"), std::string::npos)
      << webcam.log();
  EXPECT_EQ(webcam.log().find(kMarker), std::string::npos);
}

TEST(SourcePrivacy, ALabelWithAControlCharacterIsRefused) {
  const RunResult run = run_program({bin_path("webcam.fcgi"), "--source-label", "a\nb"});
  EXPECT_EQ(run.status, 2);
  EXPECT_EQ(run.err,
            "webcam.fcgi: option --source-label: expected 1 to 80 printable characters, got "
            "'a?b' (see --help)\n");
}

// A --source that is refused is never quoted (a URL may hold a password): the error names
// it by its camera or its place, whatever the order and whichever check refuses it.
TEST(SourcePrivacy, ARefusedSourceIsNotQuoted) {
  const std::string url = "http://admin:Secret9@cam.local/video.cgi";
  const std::vector<std::vector<std::string>> cases = {
      {"--source", "door=testcard", "--source", url},
      {"--source", url, "--source", "door=testcard"},
      {"--source", "door=ftp://admin:Secret9@cam.local/video.cgi"},
      {"--source", "ftp://admin:Secret9@cam.local/video.cgi"},
      {"--source", "http://admin:Secret9@/video.cgi"},
      {"--source", "door=http://admin:Secret9@cam.local:99999/video.cgi"},
  };
  for (const auto& args : cases) {
    std::vector<std::string> argv = {bin_path("webcam.fcgi")};
    argv.insert(argv.end(), args.begin(), args.end());
    const RunResult run = run_program(argv);
    EXPECT_EQ(run.status, 2) << run.err;
    EXPECT_EQ(run.err.rfind("webcam.fcgi: option --source: ", 0), 0u) << run.err;
    EXPECT_EQ(run.err.find("Secret9"), std::string::npos) << run.err;
    EXPECT_EQ(run.err.find("admin"), std::string::npos) << run.err;
    EXPECT_EQ(run.err.find("cam.local"), std::string::npos) << run.err;
  }
}

}  // namespace
}  // namespace pushcgi::test
