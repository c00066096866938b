// webcam.fcgi: a moving picture inline in a plain <img>, from one camera or several, or any
// JPEG source, for many viewers. See webcam_service.hpp for the routes, camera_options.hpp
// for the cameras of the command line and sources/source.hpp for the sources.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <pushcgi/pushcgi.hpp>
#include <pushcgi/redis_publisher.hpp>
#include <pushcgi/sources/source.hpp>
#include <pushcgi/text.hpp>

#include "camera_options.hpp"
#include "webcam_service.hpp"

namespace {

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

// --source-netrc, --source-ca: a file this program can read.
std::string check_readable(std::string_view value, std::string& path) {
  if (value.empty() || ::access(std::string(value).c_str(), R_OK) != 0) {
    return "cannot read " + pushcgi::quote_input(value);
  }
  path = std::string(value);
  return {};
}

// --wall-panel: a page of this site ("/ps/?top=12"), never another site's: the wall shows
// it in a frame.
std::string check_site_path(std::string_view value, std::string& path) {
  const auto visible = [](char c) { return c > 0x20 && c < 0x7f; };
  if (value.size() < 1 || value.size() > 512 || value[0] != '/' ||
      (value.size() > 1 && (value[1] == '/' || value[1] == '\\')) ||
      !std::all_of(value.begin(), value.end(), visible)) {
    return "expected a path on this site such as /ps/?top=12, got " + pushcgi::quote_input(value);
  }
  path = std::string(value);
  return {};
}

// As ssh does with its keys: credentials that others may read or change are worth a
// warning (one line, naming the file, never its content), but not a refusal.
void warn_if_shared(const std::string& path) {
  struct stat info {};
  if (path.empty() || ::stat(path.c_str(), &info) != 0 || (info.st_mode & 077) == 0) return;
  std::string shown = path;
  for (char& c : shown) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  }
  char mode[8];
  std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(info.st_mode & 07777));
  pushcgi::log(pushcgi::LogLevel::warning,
               "--source-netrc " + shown + " has mode " + mode +
                   ": others than its owner may read or change the cameras' credentials "
                   "(chmod 600 it)");
}

}  // namespace

int main(int argc, char** argv) {
  pushcgi::Server server("webcam.fcgi",
                         "Image streaming: /, /stream, /snapshot, /state; with several cameras "
                         "/ lists them and each has /NAME/, /NAME/stream, /NAME/snapshot, "
                         "/NAME/state.");
  pushcgi::SourceOptions common;  // the settings of every camera
  unsigned linger = 3;
  unsigned max_frame_kib = 8192;
  unsigned source_timeout = 10;
  std::string wall_panel;
  auto& options = server.options();
  const pushcgi::CameraOptions camera_options(options);
  options.add_value(
      "source-env", "NAME[=VALUE]",
      "exec: pass NAME (this program's value) or NAME=VALUE to the child, "
      "which otherwise gets only PATH, HOME and LANG; repeatable",
      [&](std::string_view value) { return check_environment_entry(value, common.environment); });
  options.add_number("max-frame-kib", "N", "largest frame accepted, in KiB (default 8192)",
                     max_frame_kib, 16, 1 << 20);
  options.add_number("linger", "SECONDS",
                     "keep a camera's source running this long after its last "
                     "viewer leaves (default 3)",
                     linger, 0, 3600);
  options.add_number("source-timeout", "SECONDS",
                     "exec: kill and restart a child, http(s): reconnect to a camera, that "
                     "hands over no whole frame for this long (default 10)",
                     source_timeout, 1, 3600);
  options.add_value(
      "source-netrc", "FILE",
      "http(s) and redis: the cameras' and Redis's credentials, one line per host: machine "
      "HOST login USER password PASSWORD (keep it readable by this program's user only; "
      "user-info in the URL wins)",
      [&](std::string_view value) { return check_readable(value, common.netrc_file); });
  options.add_value("source-ca", "FILE",
                    "https: the CA or self-signed certificate (PEM) to check the camera against, "
                    "instead of the system's",
                    [&](std::string_view value) { return check_readable(value, common.ca_file); });
  options.add_value("wall-panel", "PATH",
                    "with several cameras: a page of this site shown beside them on the wall "
                    "(/), e.g. /ps/?top=12 for a live process list",
                    [&](std::string_view value) { return check_site_path(value, wall_panel); });
  if (const auto status = server.parse_options(argc, argv)) return *status;
  warn_if_shared(common.netrc_file);
  common.source_timeout = std::chrono::seconds(source_timeout);
  common.max_frame_bytes = std::size_t{max_frame_kib} * 1024;
  const auto configs = camera_options.cameras(common);
  if (!configs) {
    std::fprintf(stderr, "webcam.fcgi: %s (see --help)\n", configs.error().c_str());
    return 2;
  }
  if (!wall_panel.empty() && configs->front().name.empty()) {
    std::fprintf(stderr,
                 "webcam.fcgi: option --wall-panel: the wall needs several cameras "
                 "(--source NAME=SPEC) (see --help)\n");
    return 2;
  }
  std::vector<std::unique_ptr<pushcgi::Camera>> cameras;
  for (const pushcgi::CameraConfig& config : *configs) {
    if (!config.publish.empty() &&
        pushcgi::RedisPublisher::same_channel(config.spec, config.publish)) {
      std::fprintf(stderr,
                   "webcam.fcgi: option --publish: %sthe channel its --source reads (it would "
                   "publish what it receives again, forever) (see --help)\n",
                   config.name.empty() ? "" : ("camera " + config.name + ": ").c_str());
      return 2;
    }
    auto made = pushcgi::make_source(config.spec, config.source);
    if (!made) {
      const std::string which = config.name.empty() ? "" : "camera " + config.name + ": ";
      std::fprintf(stderr, "webcam.fcgi: option --source: %s%s (see --help)\n", which.c_str(),
                   made.error().c_str());
      return 2;
    }
    cameras.push_back(std::make_unique<pushcgi::Camera>(
        config.name, std::move(made.value()),
        pushcgi::CameraSettings{std::chrono::seconds(linger), config.skip_unchanged, config.publish,
                                config.source.netrc_file}));
  }
  pushcgi::WebcamService service(std::move(cameras), wall_panel);
  service.add_routes(server);
  return server.serve();
}
