// What docs/SECURITY.md promises, checked: the shipped Basic authentication snippets keep
// out whoever has no password, no way to run a shell is linked in, no CORS header goes out.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <sstream>

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

// GET target from source address `from` (any 127.0.0.0/8 address is this machine): the
// whole response, or what came within 10 s.
std::string get_from(const std::string& from, int port, const std::string& target) {
  HttpClient client;
  client.connect_from(from);
  if (!client.get(port, target)) return {};
  client.read_to_end(10s);
  return client.response();
}

class LocalOnly : public ::testing::TestWithParam<std::string> {};

// The shipped snippets keep /state and /metrics (which tell who watches what) to clients
// on this host; the pages and streams stay everybody's.
TEST_P(LocalOnly, StateAndMetricsAnswerOnlyClientsOnThisHost) {
  Stack stack(GetParam(), "--source door=testcard");
  ASSERT_TRUE(stack.ready()) << stack.log();
  // A named camera's pages where the stack starts webcam.fcgi with the options given (with
  // mod_fcgid and CGI, Apache starts it with the shipped ones).
  std::vector<std::string> private_targets = {"/ps/state", "/ps/metrics", "/webcam/state",
                                              "/webcam/metrics"};
  std::vector<std::string> public_targets = {"/ps/", "/webcam/", "/webcam/snapshot"};
  if (stack.shared_program()) {
    private_targets.push_back("/webcam/door/state");
    public_targets = {"/ps/", "/webcam/", "/webcam/door/", "/webcam/door/snapshot"};
  }
  for (const std::string& target : private_targets) {
    const std::string local = get_from("127.0.0.1", stack.port(), target);
    EXPECT_EQ(status_of(local), 200) << target << "\n" << local.substr(0, 300);
    const std::string remote = get_from("127.0.0.2", stack.port(), target);
    EXPECT_EQ(status_of(remote), 403) << target << "\n" << remote.substr(0, 300);
  }
  // Spelled otherwise, as a scanner would try: never answered to a client elsewhere.
  for (const std::string target : {"/ps//state", "/ps/%73tate", "/ps/state?x=1", "/ps/state/",
                                   "/ps/./metrics", "/webcam//metrics", "/webcam/%6detrics"}) {
    const std::string remote = get_from("127.0.0.2", stack.port(), target);
    EXPECT_NE(status_of(remote), 200) << target << "\n" << remote.substr(0, 300);
    EXPECT_EQ(remote.find("open_streams"), std::string::npos) << target;
    EXPECT_EQ(remote.find("pushcgi_streams"), std::string::npos) << target;
  }
  for (const std::string& target : public_targets) {
    const std::string remote = get_from("127.0.0.2", stack.port(), target);
    EXPECT_EQ(status_of(remote), 200) << target << "\n" << remote.substr(0, 300);
  }
}

INSTANTIATE_TEST_SUITE_P(Servers, LocalOnly, ::testing::ValuesIn(kServers),
                         [](const auto& param_info) { return server_test_name(param_info.param); });

// The executable and every shared object mapped into a running process: the files mapped
// with execute permission (not, say, nscd's passwd cache, which is data).
std::vector<std::string> loaded_objects(pid_t pid) {
  std::vector<std::string> objects;
  std::istringstream maps(read_file("/proc/" + std::to_string(pid) + "/maps"));
  for (std::string line; std::getline(maps, line);) {
    const std::size_t path = line.find(" /");
    const std::size_t permissions = line.find(' ') + 1;  // "r-xp" after the address range
    if (path == std::string::npos || line.find(" (deleted)") != std::string::npos ||
        line.compare(permissions + 2, 1, "x") != 0) {
      continue;
    }
    const std::string object = line.substr(path + 1);
    if (std::find(objects.begin(), objects.end(), object) == objects.end()) {
      objects.push_back(object);
    }
  }
  return objects;
}

// The functions of object whose code calls callee through the PLT.
std::vector<std::string> callers_of(const std::string& object, const std::string& callee) {
  const RunResult code = run_program({"/usr/bin/objdump", "-d", "--no-show-raw-insn", object});
  EXPECT_EQ(code.status, 0) << code.err;
  std::vector<std::string> callers;
  std::string function;
  std::istringstream lines(code.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.size() > 2 && line.compare(line.size() - 2, 2, ">:") == 0) {
      function = line.substr(line.find('<') + 1);
      function = function.substr(0, function.find_first_of("@>"));
    } else if (line.find("call") != std::string::npos &&
               (line.find("<" + callee + "@plt>") != std::string::npos ||
                line.find("<" + callee + ">") != std::string::npos)) {
      callers.push_back(function);
    }
  }
  return callers;
}

// A shell, or another program, can only be started through these libc calls. The programs
// start the exec: source's child with fork and execve on a resolved path (webcam.fcgi only),
// and read /proc themselves. Of everything else loaded into them, only fcgi2 imports any of
// these calls, each from one entry point that pushcgi never calls: FCGI_popen (popen), of
// fcgi2's stdio emulation layer, and OS_SpawnChild (execl), which cgi-fcgi uses to start an
// application; and, in webcam.fcgi, two libraries that libcurl brings (see `dormant`). This
// checks all of that in the running programs.
TEST(Security, NoWayToRunAShellIsReachable) {
  const std::vector<std::string> calls = {
      "system",  "popen",  "execl",   "execlp",   "execle",  "execv",       "execvp",
      "execvpe", "execve", "fexecve", "execveat", "wordexp", "posix_spawn", "posix_spawnp"};
  // The one way each call is there at all: object (by its name's start), caller, and the
  // caller's entry point that nothing loaded may import.
  struct Known {
    std::string object, call, entry;
  };
  const std::vector<Known> known = {{"libfcgi.so", "popen", "FCGI_popen"},
                                    {"libfcgi.so", "execl", "OS_SpawnChild"}};
  // webcam.fcgi also loads libcurl for the http(s) source, and what libcurl links. Two of
  // those import such a call, each reached only through a setting pushcgi never makes; they
  // are stripped, so objdump names no caller to check. What the settings allow is checked
  // from outside by Relay.OnlyBasicOrDigestAndOnlyHttpOrHttpsAreUsed
  // (tests/integration/relay_access_test.cpp): no NTLM answer to an NTLM challenge, no
  // connection for a redirect to ftp://, rtmp://, telnet:// and others.
  struct Dormant {
    std::string object, call;
  };
  const std::vector<Dormant> dormant = {
      // curl_ntlm_wb.c starts winbind's ntlm_auth helper, for CURLAUTH_NTLM_WB only; the http
      // source allows Basic and Digest.
      {"libcurl.so", "execl"},
      // p11-kit's rpc-transport.c runs a PKCS#11 module configured as "remote: |COMMAND" in
      // p11-kit's module files. p11-kit is there for GnuTLS, which librtmp links; nothing in
      // webcam.fcgi calls either: libcurl uses OpenSSL, and rtmp:// is no allowed protocol.
      {"libp11-kit.so", "execvp"}};
  Stack stack("nginx");
  ASSERT_TRUE(stack.ready()) << stack.log();
  for (const std::string program : {"ps", "webcam"}) {
    const std::vector<std::string> objects = loaded_objects(stack.program_pid(program));
    ASSERT_GE(objects.size(), 3u) << program;    // the program, libfcgi, libc, ...
    std::map<std::string, std::string> imports;  // by object: what nm -D lists as undefined
    for (const std::string& object : objects) {
      const RunResult symbols = run_program({"/usr/bin/nm", "-D", "--undefined-only", object});
      ASSERT_EQ(symbols.status, 0) << object << ": " << symbols.err;
      imports[object] = symbols.out;
    }
    EXPECT_EQ(std::count_if(objects.begin(), objects.end(),
                            [&](const std::string& object) {
                              return object.substr(object.rfind('/') + 1) == program + ".fcgi";
                            }),
              1)
        << "the program itself is among its objects";
    for (const std::string& object : objects) {
      const std::string name = object.substr(object.rfind('/') + 1);
      const bool executable = name == program + ".fcgi";
      if (executable && program == "webcam") {  // the one way it starts a program: no shell
        EXPECT_NE(imports[object].find(" U execve@"), std::string::npos) << imports[object];
      }
      for (const std::string& call : calls) {
        if (imports[object].find(" U " + call + "@") == std::string::npos) continue;
        if (executable && program == "webcam" && call == "execve") continue;
        if (program == "webcam" &&
            std::any_of(dormant.begin(), dormant.end(), [&](const Dormant& d) {
              return name.rfind(d.object, 0) == 0 && d.call == call;
            })) {
          continue;
        }
        const auto way = std::find_if(known.begin(), known.end(), [&](const Known& k) {
          return name.rfind(k.object, 0) == 0 && k.call == call;
        });
        ASSERT_NE(way, known.end()) << program << ": " << object << " imports " << call;
        EXPECT_EQ(callers_of(object, call), std::vector<std::string>{way->entry}) << object;
        EXPECT_TRUE(callers_of(object, way->entry).empty()) << object << " calls " << way->entry;
        for (const auto& [other, its_imports] : imports) {
          EXPECT_EQ(its_imports.find(" U " + way->entry), std::string::npos)
              << other << " imports " << way->entry;
        }
      }
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
