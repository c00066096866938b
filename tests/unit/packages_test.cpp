// The README's two commands on a bare machine: each installs every package it needs from the
// one list in tools/packages before it compiles anything, and no other file names packages.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "support/process.hpp"

namespace pushcgi::test {
namespace {

const std::string kSource = PUSHCGI_SOURCE_DIR;

// The commands `make GOAL` would run in a build directory where nothing is built yet.
std::vector<std::string> planned_commands(const std::string& goal) {
  TempDir build;
  const RunResult plan = run_program({"/usr/bin/make", "-n", "--no-print-directory", "-C", kSource,
                                      "BUILD=" + build.path(), goal});
  EXPECT_EQ(plan.status, 0) << plan.err;
  std::vector<std::string> commands;
  std::istringstream lines(plan.out);
  for (std::string line; std::getline(lines, line);) commands.push_back(line);
  return commands;
}

// Index of the first command that starts with text, or the number of commands.
std::size_t first_with(const std::vector<std::string>& commands, const std::string& text) {
  std::size_t i = 0;
  while (i < commands.size() && commands[i].rfind(text, 0) != 0) ++i;
  return i;
}

TEST(Packages, RunAndTestInstallWhatTheyNeedBeforeCompilingAnything) {
  for (const auto& [goal, packages] :
       {std::pair<std::string, std::vector<std::string>>{
            "run", {"g++", "libfcgi-dev", "libturbojpeg0-dev", "pkg-config", "nginx"}},
        {"test",
         {"g++", "libfcgi-dev", "libturbojpeg0-dev", "libgtest-dev", "apache2", "chromium",
          "clang-14"}}}) {
    const std::vector<std::string> commands = planned_commands(goal);
    const std::size_t install = first_with(commands, "tools/ensure-packages");
    ASSERT_LT(install, commands.size()) << goal << ": no install step";
    // The packages themselves, not only purposes: `make -n` shows what will be installed.
    for (const std::string& package : packages) {
      EXPECT_NE((commands[install] + " ").find(" " + package + " "), std::string::npos)
          << goal << ": " << commands[install];
    }
    EXPECT_LT(install, first_with(commands, "g++ ")) << goal << ": compiles before installing";
    EXPECT_LT(install, first_with(commands, "clang++")) << goal;
  }
}

// Every purpose the Makefile asks for exists in tools/packages, and the build line holds
// what the compiler needs (a missing header was the bare machine's first failure).
TEST(Packages, EveryPurposeIsListed) {
  const RunResult list = run_program({kSource + "/tools/ensure-packages", "--list", "build", "run",
                                      "test", "fuzz", "format", "bench"});
  ASSERT_EQ(list.status, 0) << list.err;
  for (const std::string package : {"libfcgi-dev", "libturbojpeg0-dev", "g++", "pkg-config",
                                    "nginx", "libgtest-dev", "clang-14"}) {
    EXPECT_NE((" " + list.out).find(" " + package + " "), std::string::npos) << package;
  }
  EXPECT_EQ(run_program({kSource + "/tools/ensure-packages", "--list", "nonsense"}).status, 2);
}

// One list: no other file of the project names a build package (the Makefile, .ci/run, the
// README and docs/DEPLOY.md did, each its own list, and drifted apart).
TEST(Packages, NoOtherFileNamesThem) {
  for (const std::string file : {"Makefile", ".ci/run", "README.md", "docs/DEPLOY.md",
                                 "tests/browser/run.sh", "tools/dev-stack"}) {
    const std::string text = read_file(kSource + "/" + file);
    ASSERT_FALSE(text.empty()) << file;
    for (const std::string package : {"libfcgi-dev", "libturbojpeg0-dev", "libgtest-dev"}) {
      EXPECT_EQ(text.find(package), std::string::npos) << file << " names " << package;
    }
  }
}

// debian/control has to name the build packages again (Build-Depends, for dpkg-buildpackage):
// every one of the build line but the compiler and make (build-essential), and none other
// than help2man and debhelper's own.
TEST(Packages, DebianBuildDependsAreTheBuildLine) {
  const RunResult list = run_program({kSource + "/tools/ensure-packages", "--list", "build"});
  ASSERT_EQ(list.status, 0) << list.err;
  std::istringstream build_line(list.out);
  std::vector<std::string> expected{"debhelper-compat", "help2man"};
  for (std::string package; build_line >> package;) {
    if (package != "g++" && package != "make") expected.push_back(package);
  }
  const std::string control = read_file(kSource + "/debian/control");
  const std::size_t start = control.find("Build-Depends:");
  ASSERT_NE(start, std::string::npos);
  // The field runs until the next line that does not start with a space.
  std::size_t end = start;
  do end = control.find('\n', end + 1);
  while (end != std::string::npos && end + 1 < control.size() && control[end + 1] == ' ');
  std::istringstream field(control.substr(start + 14, end - start - 14));
  std::vector<std::string> named;
  for (std::string word; field >> word;) {
    while (!word.empty() && word.back() == ',') word.pop_back();
    if (!word.empty() && word[0] != '(' && word.back() != ')') named.push_back(word);
  }
  std::sort(expected.begin(), expected.end());
  std::sort(named.begin(), named.end());
  EXPECT_EQ(named, expected);
}

}  // namespace
}  // namespace pushcgi::test
