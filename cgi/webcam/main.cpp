// webcam.fcgi: a moving picture inline in a plain <img>, from a camera or any JPEG source,
// for many viewers. See webcam_service.hpp for the routes and sources/source.hpp for the
// sources.
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <pushcgi/pushcgi.hpp>
#include <pushcgi/sources/source.hpp>
#include <pushcgi/text.hpp>

#include "webcam_service.hpp"

namespace {

// --source-label: shown in /state and log lines, so one line of printable text.
std::string check_label(std::string_view value, std::string& label) {
  const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  if (value.empty() || value.size() > 80 || std::any_of(value.begin(), value.end(), control)) {
    return "expected 1 to 80 printable characters, got " + pushcgi::quote_input(value);
  }
  label = std::string(value);
  return {};
}

// --source-env NAME or NAME=VALUE (a secret is better passed by NAME: a command line is
// readable by every local user).
std::string check_environment_entry(std::string_view value, std::vector<std::string>& entries) {
  const std::string_view name = value.substr(0, value.find('='));
  const auto name_char = [](char c) {
    return c == '_' || std::isalnum(static_cast<unsigned char>(c)) != 0;
  };
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) != 0 ||
      !std::all_of(name.begin(), name.end(), name_char)) {
    return "expected NAME or NAME=VALUE, NAME of letters, digits and _, got " +
           pushcgi::quote_input(name);
  }
  entries.emplace_back(value);
  return {};
}

// --source-netrc, --source-ca: refused at once if this program cannot read them, rather
// than as a failure of every connection to the camera.
std::string check_readable(std::string_view value, std::string& path) {
  if (value.empty() || ::access(std::string(value).c_str(), R_OK) != 0) {
    return "cannot read " + pushcgi::quote_input(value);
  }
  path = std::string(value);
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  pushcgi::Server server("webcam.fcgi", "Image streaming: /, /stream, /snapshot, /state.");
  std::string source_spec = "testcard";
  pushcgi::SourceOptions source;
  unsigned linger = 3;
  bool skip_unchanged = false;
  unsigned max_frame_kib = 8192;
  unsigned source_timeout = 10;
  auto& options = server.options();
  options.add_text("source", "SPEC",
                   "testcard (default), file:PATH, dir:PATH, exec:PROGRAM ARGS... or "
                   "http(s)://[USER:PASSWORD@]HOST[:PORT]/PATH (an IP camera's MJPEG stream, "
                   "relayed frame by frame, or its snapshot URL, polled at --fps)",
                   source_spec);
  options.add_value("source-label", "TEXT",
                    "what /state and the log call the source (default: the program's name "
                    "for exec:, never its arguments)",
                    [&](std::string_view value) { return check_label(value, source.label); });
  options.add_value(
      "source-env", "NAME[=VALUE]",
      "exec: pass NAME (this program's value) or NAME=VALUE to the child, "
      "which otherwise gets only PATH, HOME and LANG; repeatable",
      [&](std::string_view value) { return check_environment_entry(value, source.environment); });
  options.add_number("fps", "N",
                     "frames per second of testcard, dir: and an http(s) snapshot URL "
                     "(default 15)",
                     source.fps, 1, 120);
  options.add_value("size", "WxH", "testcard size (default 640x480)", [&](std::string_view value) {
    int width = 0;
    int height = 0;
    char end = 0;
    if (std::sscanf(std::string(value).c_str(), "%dx%d%c", &width, &height, &end) != 2 ||
        width < 64 || height < 64 || width > 4096 || height > 4096) {
      return "expected WIDTHxHEIGHT from 64x64 to 4096x4096, got " + pushcgi::quote_input(value);
    }
    source.width = width;
    source.height = height;
    return std::string();
  });
  options.add_number("max-frame-kib", "N", "largest frame accepted, in KiB (default 8192)",
                     max_frame_kib, 16, 1 << 20);
  options.add_flag("skip-unchanged",
                   "do not send a frame whose bytes equal the one before (a still scene); "
                   "viewers still get the last frame again after a second of quiet",
                   skip_unchanged);
  options.add_number("linger", "SECONDS",
                     "keep the source running this long after the last "
                     "viewer leaves (default 3)",
                     linger, 0, 3600);
  options.add_number("source-timeout", "SECONDS",
                     "exec: kill and restart a child, http(s): reconnect to a camera, that "
                     "hands over no whole frame for this long (default 10)",
                     source_timeout, 1, 3600);
  options.add_value(
      "source-netrc", "FILE",
      "http(s): the cameras' credentials, one line per camera: machine HOST login "
      "USER password PASSWORD (keep it readable by this program's user only; "
      "user-info in the URL wins)",
      [&](std::string_view value) { return check_readable(value, source.netrc_file); });
  options.add_value("source-ca", "FILE",
                    "https: the CA or self-signed certificate (PEM) to check the camera against, "
                    "instead of the system's",
                    [&](std::string_view value) { return check_readable(value, source.ca_file); });
  if (const auto status = server.parse_options(argc, argv)) return *status;
  source.source_timeout = std::chrono::seconds(source_timeout);
  source.max_frame_bytes = std::size_t{max_frame_kib} * 1024;
  auto made = pushcgi::make_source(source_spec, source);
  if (!made) {
    std::fprintf(stderr, "webcam.fcgi: option --source: %s (see --help)\n", made.error().c_str());
    return 2;
  }
  pushcgi::WebcamService service(
      std::move(made.value()),
      pushcgi::WebcamOptions{std::chrono::seconds(linger), skip_unchanged});
  service.add_routes(server);
  return server.serve();
}
