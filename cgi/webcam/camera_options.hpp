// The cameras of webcam.fcgi's command line: `--source SPEC` for the one camera of the
// routes /stream etc., or `--source NAME=SPEC` (repeatable) for cameras below /NAME/; and the
// options that describe a source, for every camera or, with a NAME= prefix on the value,
// for one: --fps, --size, --source-label, --skip-unchanged[=NAME].
//
// A value with a prefix wins over one without, whatever their order: `--fps 5 --fps door=2`
// and `--fps door=2 --fps 5` both give door 2 fps and the others 5. A prefix naming no camera
// is an error, found once every option has been read (the cameras may come last).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "pushcgi/error.hpp"
#include "pushcgi/options.hpp"
#include "pushcgi/sources/source.hpp"

namespace pushcgi {

struct CameraConfig {
  std::string name;  // "" for the plain camera of `--source SPEC`
  std::string spec;
  SourceOptions source;
  bool skip_unchanged = false;
  std::string publish;  // a redis:// URL its frames are published to (--publish), or ""
  unsigned given = 0;   // its --source is the given-th on the command line (for errors)
};

// 1 to 32 of a-z, 0-9, _ and -, and not "state" (the route /state lists every camera).
// Returns "" or what is wrong with it, quoting the name; or, given the --source it comes
// from, naming that instead (a --source's text before its '=' might be part of a secret).
std::string check_camera_name(std::string_view name, std::string_view source = {});

class CameraOptions {
 public:
  static constexpr std::size_t kMaxName = 32;

  // Adds --source, --source-label, --fps, --size and --skip-unchanged to options; the
  // values stay here until cameras().
  explicit CameraOptions(Options& options);
  CameraOptions(const CameraOptions&) = delete;
  CameraOptions& operator=(const CameraOptions&) = delete;

  // Once the options are parsed: every camera, in the order of its --source, with its
  // settings over common (the settings of all cameras: --max-frame-kib, ...); a plain
  // testcard when there was no --source. Or a one-line error that names the option.
  Parsed<std::vector<CameraConfig>> cameras(const SourceOptions& common) const;

 private:
  // One value of a per-camera option: for camera (a NAME= prefix), or for all (none).
  struct Setting {
    std::optional<std::string> camera;
    std::string value;  // without the prefix
    std::string whole;  // as given (a plain camera's label may hold '=')
  };
  std::string add_source(std::string_view value);
  // The settings of `option` that apply to camera, in the order they apply (last wins).
  std::vector<const Setting*> settings_for(const std::vector<Setting>& settings,
                                           const CameraConfig& camera) const;
  std::string unknown_camera(std::string_view option, const std::vector<Setting>& settings) const;

  std::vector<CameraConfig> cameras_;  // from --source, without their settings yet
  bool plain_ = false;                 // a --source without a name was given
  unsigned plain_given_ = 0;           // the place of the last plain --source
  unsigned sources_given_ = 0;         // how many --source were read
  std::vector<Setting> fps_;
  std::vector<Setting> sizes_;
  std::vector<Setting> labels_;
  std::vector<Setting> skip_unchanged_;  // value "" for all
  std::vector<Setting> publish_;
};

}  // namespace pushcgi
