// --version: every program prints "NAME VERSION" with the Makefile's VERSION (help2man builds
// the Debian packages' man pages from it, and debian/changelog must carry the same version).
#include <gtest/gtest.h>

#include "fcgi_program.hpp"

namespace pushcgi::test {
namespace {

TEST(Version, EveryProgramPrintsTheMakefilesVersionAndExits) {
  const std::string version = makefile_version();
  ASSERT_FALSE(version.empty()) << "no VERSION := line in the Makefile";
  for (const std::string program : {"ps.fcgi", "webcam.fcgi", "hello_push", "hello_many"}) {
    const RunResult result = run_program({bin_path(program), "--version"});
    EXPECT_EQ(result.status, 0) << program << ": " << result.err;
    EXPECT_EQ(result.out, program + " " + version + "\n") << program;
    EXPECT_TRUE(result.err.empty()) << program << ": " << result.err;
  }
}

TEST(Version, HelpNamesIt) {
  const RunResult result = run_program({bin_path("ps.fcgi"), "--help"});
  EXPECT_EQ(result.status, 0);
  EXPECT_NE(result.out.find("\n  --version "), std::string::npos) << result.out;
}

}  // namespace
}  // namespace pushcgi::test
