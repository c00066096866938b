#include "camera_options.hpp"

#include <algorithm>
#include <cstdio>
#include <tuple>

#include "pushcgi/query.hpp"
#include "pushcgi/redis_publisher.hpp"
#include "pushcgi/text.hpp"

namespace pushcgi {

namespace {

constexpr unsigned kMinFps = 1;
constexpr unsigned kMaxFps = 120;

bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

std::optional<unsigned> parse_fps(std::string_view value) {
  const auto number = parse_number(value, kMinFps, kMaxFps);
  if (!number) return std::nullopt;
  return static_cast<unsigned>(*number);
}

std::string fps_error(std::string_view value) {
  return "expected a whole number from " + std::to_string(kMinFps) + " to " +
         std::to_string(kMaxFps) + ", got " + quote_input(value);
}

std::optional<std::pair<int, int>> parse_size(std::string_view value) {
  int width = 0;
  int height = 0;
  char end = 0;
  if (std::sscanf(std::string(value).c_str(), "%dx%d%c", &width, &height, &end) != 2 ||
      width < 64 || height < 64 || width > 4096 || height > 4096) {
    return std::nullopt;
  }
  return std::make_pair(width, height);
}

// --source-label: shown in /state and log lines, so one line of printable text.
std::string label_error(std::string_view value) {
  const auto control = [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; };
  if (value.empty() || value.size() > 80 || std::any_of(value.begin(), value.end(), control)) {
    return "expected 1 to 80 printable characters, got " + quote_input(value);
  }
  return {};
}

// "NAME=VALUE" or "VALUE". For --fps and --size any '=' starts a value (theirs hold none);
// a label may hold '=', so there only a name-like text before it is a prefix.
std::pair<std::optional<std::string>, std::string> split_prefix(std::string_view value,
                                                                bool name_like_only) {
  const std::size_t eq = value.find('=');
  if (eq == std::string_view::npos) return {std::nullopt, std::string(value)};
  const std::string_view name = value.substr(0, eq);
  if (name_like_only && (name.empty() || eq + 1 == value.size() ||
                         !std::all_of(name.begin(), name.end(), name_char))) {
    return {std::nullopt, std::string(value)};
  }
  return {std::string(name), std::string(value.substr(eq + 1))};
}

// "" or why url is no Redis URL (never quoting it).
std::string parse_redis_publish_url(std::string_view url) {
  const auto parsed = RedisPublisher::check_url(url);
  return parsed.empty() ? std::string() : "expected a redis:// URL: " + parsed;
}

}  // namespace

std::string check_camera_name(std::string_view name, std::string_view source) {
  if (name.empty() || name.size() > CameraOptions::kMaxName ||
      !std::all_of(name.begin(), name.end(), name_char)) {
    return "expected a camera name of 1 to " + std::to_string(CameraOptions::kMaxName) +
           " characters a-z, 0-9, _ and -" +
           (source.empty() ? ", got " + quote_input(name)
                           : " before the '=' of " + std::string(source));
  }
  if (name == "state") return "'state' cannot name a camera: /state lists them all";
  if (name == "metrics") return "'metrics' cannot name a camera: /metrics counts them all";
  return {};
}

CameraOptions::CameraOptions(Options& options) {
  options.add_value("source", "[NAME=]SPEC",
                    "testcard (default), file:PATH, dir:PATH, exec:PROGRAM ARGS... or "
                    "http(s)://[USER:PASSWORD@]HOST[:PORT]/PATH (an IP camera's MJPEG stream, "
                    "relayed frame by frame, or its snapshot URL, polled at --fps), "
                    "redis://[USER:PASSWORD@]HOST[:PORT]/CHANNEL or "
                    "redis+unix:///PATH?channel=CHANNEL (another host's --publish); "
                    "NAME=SPEC (repeatable): several cameras, each below /NAME/",
                    [this](std::string_view value) { return add_source(value); });
  options.add_value("source-label", "[NAME=]TEXT",
                    "what /state and the log call the source (default: the program's name "
                    "for exec:, never its arguments)",
                    [this](std::string_view value) {
                      auto [camera, label] = split_prefix(value, true);
                      // Only the text after NAME= is the label; a plain camera takes the
                      // whole value, checked by cameras() once it is known to be plain.
                      if (auto error = label_error(label); !error.empty()) return error;
                      labels_.push_back({std::move(camera), std::move(label), std::string(value)});
                      return std::string();
                    });
  options.add_value("fps", "[NAME=]N",
                    "frames per second of testcard, dir: and an http(s) snapshot URL (default 15)",
                    [this](std::string_view value) {
                      auto [camera, fps] = split_prefix(value, false);
                      if (!parse_fps(fps)) return fps_error(fps);
                      fps_.push_back({std::move(camera), std::move(fps), std::string(value)});
                      return std::string();
                    });
  options.add_value(
      "size", "[NAME=]WxH", "testcard size (default 640x480)", [this](std::string_view value) {
        auto [camera, size] = split_prefix(value, false);
        if (!parse_size(size)) {
          return "expected WIDTHxHEIGHT from 64x64 to 4096x4096, got " + quote_input(size);
        }
        sizes_.push_back({std::move(camera), std::move(size), std::string(value)});
        return std::string();
      });
  options.add_value(
      "publish", "[NAME=]URL",
      "publish the camera's frames to Redis for other web servers (--source redis://...), "
      "while any of them subscribes: redis://[USER:PASSWORD@]HOST[:PORT]/CHANNEL or "
      "redis+unix:///PATH?channel=CHANNEL",
      [this](std::string_view value) {
        auto [camera, url] = split_prefix(value, true);
        // Never quoted: the URL may hold a password.
        if (auto parsed = parse_redis_publish_url(url); !parsed.empty()) return parsed;
        publish_.push_back({std::move(camera), std::move(url), ""});
        return std::string();
      });
  options.add_optional_value(
      "skip-unchanged", "NAME",
      "do not send a frame whose bytes equal the one before (a still scene); viewers still "
      "get the last frame again after a second of quiet; =NAME: that camera only "
      "(repeatable)",
      [this](std::optional<std::string_view> value) {
        if (value && value->empty()) return std::string("expected a camera's name after '='");
        skip_unchanged_.push_back(
            {value ? std::optional<std::string>(*value) : std::nullopt, "", "skip-unchanged"});
        return std::string();
      });
}

// The value of --source is never quoted in an error: a URL may hold a password. A message
// says which --source instead: its camera's name, or its place on the command line.
std::string CameraOptions::add_source(std::string_view value) {
  ++sources_given_;
  const std::string which = "--source " + std::to_string(sources_given_);
  const std::size_t eq = value.find('=');
  // No spec has an '=' before a ':' or '/' (testcard, file:, dir:, exec:, http://): a word
  // before the first '=' names a camera.
  const bool named = eq != std::string_view::npos &&
                     value.substr(0, eq).find_first_of(":/ \t'\"") == std::string_view::npos;
  const auto mixed = [&](const std::string& plain, const std::string& named_one) {
    return "cannot mix a plain --source SPEC with named ones (NAME=SPEC): " + plain +
           " is plain, " + named_one;
  };
  if (!named) {
    if (value.empty()) return "expected a value, got ''";
    if (!plain_ && !cameras_.empty()) {
      return mixed(which, "--source " + std::to_string(cameras_.front().given) + " names camera " +
                              quote_input(cameras_.front().name));
    }
    // As before several cameras: a second plain --source replaces the first.
    plain_ = true;
    plain_given_ = sources_given_;
    cameras_.assign(1, CameraConfig{"", std::string(value), {}, false, {}, sources_given_});
    return {};
  }
  const std::string_view name = value.substr(0, eq);
  if (auto error = check_camera_name(name, which); !error.empty()) return error;
  if (eq + 1 == value.size()) {
    return "camera " + quote_input(name) + ": expected a SPEC after the '='";
  }
  if (plain_) {
    return mixed("--source " + std::to_string(plain_given_),
                 which + " names camera " + quote_input(name));
  }
  for (const CameraConfig& camera : cameras_) {
    if (camera.name == name) return "camera " + quote_input(name) + " is named twice";
  }
  cameras_.push_back(CameraConfig{
      std::string(name), std::string(value.substr(eq + 1)), {}, false, {}, sources_given_});
  return {};
}

std::vector<const CameraOptions::Setting*> CameraOptions::settings_for(
    const std::vector<Setting>& settings, const CameraConfig& camera) const {
  std::vector<const Setting*> applying;
  for (const Setting& setting : settings) {
    if (!setting.camera) applying.push_back(&setting);
  }
  for (const Setting& setting : settings) {
    if (setting.camera && *setting.camera == camera.name) applying.push_back(&setting);
  }
  return applying;
}

std::string CameraOptions::unknown_camera(std::string_view option,
                                          const std::vector<Setting>& settings) const {
  for (const Setting& setting : settings) {
    if (!setting.camera) continue;
    const bool known = std::any_of(cameras_.begin(), cameras_.end(), [&](const CameraConfig& c) {
      return !c.name.empty() && c.name == *setting.camera;
    });
    if (known) continue;
    std::string names;
    for (const CameraConfig& camera : cameras_) {
      if (camera.name.empty()) continue;
      names += (names.empty() ? "" : ", ") + camera.name;
    }
    return "option --" + std::string(option) + ": no camera named " + quote_input(*setting.camera) +
           (names.empty() ? std::string(" (name cameras with --source NAME=SPEC)")
                          : " (cameras: " + names + ")");
  }
  return {};
}

Parsed<std::vector<CameraConfig>> CameraOptions::cameras(const SourceOptions& common) const {
  // A plain camera has no name to prefix, so its label is taken whole.
  std::vector<Setting> labels = labels_;
  if (plain_ || cameras_.empty()) {
    for (Setting& label : labels) {
      if (auto error = label_error(label.whole); !error.empty()) {
        return Parsed<std::vector<CameraConfig>>::failure("option --source-label: " + error);
      }
      label = {std::nullopt, label.whole, label.whole};
    }
  }
  const std::pair<const char*, const std::vector<Setting>*> checked[] = {
      {"source-label", &labels},
      {"fps", &fps_},
      {"size", &sizes_},
      {"skip-unchanged", &skip_unchanged_},
      {"publish", &publish_}};
  for (const auto& [option, settings] : checked) {
    if (auto error = unknown_camera(option, *settings); !error.empty()) {
      return Parsed<std::vector<CameraConfig>>::failure(error);
    }
  }
  std::vector<CameraConfig> cameras = cameras_;
  if (cameras.empty()) cameras.push_back(CameraConfig{"", "testcard", {}, false, {}, 0});
  for (CameraConfig& camera : cameras) {
    camera.source = common;
    for (const Setting* fps : settings_for(fps_, camera))
      camera.source.fps = *parse_fps(fps->value);
    for (const Setting* size : settings_for(sizes_, camera)) {
      std::tie(camera.source.width, camera.source.height) = *parse_size(size->value);
    }
    for (const Setting* label : settings_for(labels, camera)) camera.source.label = label->value;
    camera.source.camera = camera.name;
    camera.skip_unchanged = !settings_for(skip_unchanged_, camera).empty();
    for (const Setting* publish : settings_for(publish_, camera)) camera.publish = publish->value;
  }
  return cameras;
}

}  // namespace pushcgi
