// What docs/SECURITY.md promises, checked: the shipped Basic authentication snippets keep
// out whoever has no password, no way to run a shell is linked in, no CORS header goes out.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "stack.hpp"

namespace pushcgi::test {
namespace {

using namespace std::chrono_literals;

int status_of(const std::string& response) {
  return response.size() > 12 ? std::atoi(response.c_str() + 9) : -1;
}

class BasicAuth : public ::testing::TestWithParam<std::string> {};

TEST_P(BasicAuth, ShippedSnippetLetsInOnlyWhoHasThePassword) {
  TempDir dir;
  chmod(dir.path().c_str(), 0711);  // Apache's children (www-data) read the password file
  const std::string file = dir.file("htpasswd");
  const RunResult made = run_program({"/usr/bin/htpasswd", "-cbB", file, "alice", "s3cret"});
  ASSERT_EQ(made.status, 0) << made.err;
  chmod(file.c_str(), 0644);
  const std::string alice = "Authorization: Basic YWxpY2U6czNjcmV0\r\n";  // alice:s3cret
  const std::string wrong = "Authorization: Basic YWxpY2U6d3Jvbmc=\r\n";  // alice:wrong
  Stack stack(GetParam(), "", {"PUSHCGI_HTPASSWD=" + file}, alice);
  ASSERT_TRUE(stack.ready()) << stack.log();

  for (const std::string target :
       {"/ps/", "/ps/push", "/ps/events", "/ps/state", "/webcam/stream", "/webcam/snapshot"}) {
    for (const std::string& credentials : {std::string(), wrong}) {
      const std::string response = http_get(stack.port(), target, 10s, credentials);
      EXPECT_EQ(status_of(response), 401) << target << "\n" << response.substr(0, 300);
      EXPECT_NE(response.find("WWW-Authenticate: Basic realm=\"pushcgi\""), std::string::npos)
          << target;
    }
  }
  HttpClient viewer;
  ASSERT_TRUE(viewer.get(stack.port(), "/webcam/stream", "curl/7.88.1", alice));
  ASSERT_TRUE(viewer.read_until(
      [](const std::string& r) { return r.find("X-Timestamp: ") != std::string::npos; }, 10s))
      << viewer.response().substr(0, 300);
  EXPECT_EQ(viewer.status(), 200);
  EXPECT_EQ(status_of(stack.get("/ps/")), 200);
}

INSTANTIATE_TEST_SUITE_P(Servers, BasicAuth, ::testing::ValuesIn(kServers),
                         [](const auto& param_info) { return server_test_name(param_info.param); });

// A shell can only be reached through these libc calls; the programs start the exec:
// source's child with fork and execve on a resolved path, and read /proc themselves.
TEST(Security, NoWayToRunAShellIsLinkedIn) {
  for (const std::string program : {"ps.fcgi", "webcam.fcgi"}) {
    const RunResult symbols =
        run_program({"/usr/bin/nm", "-D", "--undefined-only", bin_path(program)});
    ASSERT_EQ(symbols.status, 0) << symbols.err;
    ASSERT_NE(symbols.out.find(" U "), std::string::npos) << "nm printed no symbols";
    for (const std::string call : {"system", "popen", "execl", "execlp", "execle", "execvp",
                                   "execvpe", "wordexp", "posix_spawn", "posix_spawnp"}) {
      EXPECT_EQ(symbols.out.find(" U " + call + "@"), std::string::npos) << program << ": " << call;
    }
    if (program == "webcam.fcgi") {  // the one way it starts a program: as named, no shell
      EXPECT_NE(symbols.out.find(" U execve@"), std::string::npos) << symbols.out;
    }
  }
}

// No Access-Control-* header: another site's scripts cannot read /state, a snapshot or a
// stream. Embedding the picture in an <img> elsewhere needs no CORS; the web server can add
// the header where an administrator wants it (docs/SECURITY.md).
TEST(Security, NoCorsHeadersGoOut) {
  Stack stack("nginx");
  ASSERT_TRUE(stack.ready()) << stack.log();
  for (const std::string target : {"/ps/state", "/ps/pull", "/webcam/snapshot", "/webcam/state"}) {
    const std::string response =
        http_get(stack.port(), target, 10s, "Origin: https://elsewhere.example\r\n");
    EXPECT_EQ(status_of(response), 200) << target;
    const std::string head = response.substr(0, response.find("\r\n\r\n"));
    EXPECT_EQ(head.find("Access-Control-"), std::string::npos) << target << "\n" << head;
  }
}

}  // namespace
}  // namespace pushcgi::test
