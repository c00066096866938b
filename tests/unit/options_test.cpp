#include "pushcgi/options.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace pushcgi {
namespace {

class OptionsTest : public ::testing::Test {
 protected:
  OptionsTest() : options_("prog", "Does things.") {
    options_.add_number("threads", "N", "threads", threads_, 1, 100);
    options_.add_text("socket", "PATH", "socket", socket_);
    options_.add_flag("show-args", "show arguments", show_args_);
    options_.add_optional_value("skip", "NAME", "skip all, or one",
                                [this](std::optional<std::string_view> value) {
                                  if (value && value->empty()) return std::string("empty");
                                  skips_.emplace_back(value ? *value : "(all)");
                                  return std::string();
                                });
  }

  Options::Result parse(std::vector<const char*> args) {
    args.insert(args.begin(), "prog");
    return options_.parse(static_cast<int>(args.size()), args.data());
  }

  Options options_;
  unsigned threads_ = 8;
  std::string socket_;
  bool show_args_ = false;
  std::vector<std::string> skips_;
};

TEST_F(OptionsTest, ValuesSeparateOrJoined) {
  const auto result = parse({"--threads", "4", "--socket=/tmp/s", "--show-args"});
  EXPECT_EQ(result.outcome, Options::Outcome::run) << result.message;
  EXPECT_EQ(threads_, 4u);
  EXPECT_EQ(socket_, "/tmp/s");
  EXPECT_TRUE(show_args_);
}

TEST_F(OptionsTest, DefaultsStayWithoutArguments) {
  EXPECT_EQ(parse({}).outcome, Options::Outcome::run);
  EXPECT_EQ(threads_, 8u);
  EXPECT_FALSE(show_args_);
}

TEST_F(OptionsTest, Help) {
  EXPECT_EQ(parse({"--help"}).outcome, Options::Outcome::help);
  EXPECT_EQ(parse({"-h"}).outcome, Options::Outcome::help);
  EXPECT_EQ(parse({"--threads", "4", "--version"}).outcome, Options::Outcome::version);
  EXPECT_EQ(parse({"--version=1"}).outcome, Options::Outcome::error);
  const std::string help = options_.help_text();
  EXPECT_NE(help.find("Usage: prog [OPTIONS]"), std::string::npos);
  EXPECT_NE(help.find("--threads N"), std::string::npos);
  EXPECT_NE(help.find("--skip[=NAME]"), std::string::npos);
  EXPECT_NE(help.find("--help"), std::string::npos);
  EXPECT_NE(help.find("--version"), std::string::npos);
}

TEST_F(OptionsTest, ErrorsNameTheOption) {
  const auto expect_error = [this](std::vector<const char*> args, const std::string& message) {
    const auto result = parse(args);
    EXPECT_EQ(result.outcome, Options::Outcome::error);
    EXPECT_EQ(result.message, message);
  };
  expect_error({"--threads", "abc"},
               "option --threads: expected a whole number from 1 to 100, got 'abc'");
  expect_error({"--threads=0"}, "option --threads: expected a whole number from 1 to 100, got '0'");
  expect_error({"--threads"}, "option --threads needs a value (N)");
  expect_error({"--bogus"}, "unknown option '--bogus'");
  expect_error({"--bogus=1"}, "unknown option '--bogus'");
  // Found by tests/fuzz/options_fuzz: the name was echoed as it came, line breaks included.
  expect_error({"--2lro\n"}, "unknown option '--2lro?'");
  expect_error({"stray"}, "unexpected argument 1 (not an option: options begin with --)");
  expect_error({"-x"}, "unexpected argument 1 (not an option: options begin with --)");
  // A stray word is not echoed: it may be a URL with a password, meant for the option before.
  expect_error({"--show-args", "http://admin:Secret9@cam/"},
               "unexpected argument 2 (not an option: options begin with --)");
  expect_error({"--show-args=yes"}, "option --show-args takes no value");
  expect_error({"--socket="}, "option --socket: expected a value, got ''");
}

// --skip alone, or --skip=NAME; a separate word after it is never its value (it is the next
// option, or a stray argument).
TEST_F(OptionsTest, OptionalValueOnlyJoined) {
  const auto result = parse({"--skip", "--skip=door", "--threads", "2", "--skip=yard"});
  EXPECT_EQ(result.outcome, Options::Outcome::run) << result.message;
  EXPECT_EQ(skips_, (std::vector<std::string>{"(all)", "door", "yard"}));
  EXPECT_EQ(threads_, 2u);

  skips_.clear();
  const auto stray = parse({"--skip", "door"});
  EXPECT_EQ(stray.outcome, Options::Outcome::error);
  EXPECT_EQ(stray.message, "unexpected argument 2 (not an option: options begin with --)");
  EXPECT_EQ(skips_, std::vector<std::string>{"(all)"});

  const auto empty = parse({"--skip="});
  EXPECT_EQ(empty.outcome, Options::Outcome::error);
  EXPECT_EQ(empty.message, "option --skip: empty");
}

}  // namespace
}  // namespace pushcgi
