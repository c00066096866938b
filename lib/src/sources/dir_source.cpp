#include <dirent.h>

#include <algorithm>
#include <cstring>

#include "frame_file.hpp"
#include "sources.hpp"

namespace pushcgi::detail {

namespace {

bool is_jpeg_name(const std::string& name) {
  std::string lower = name;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  const auto ends = [&lower](const char* suffix) {
    const std::size_t n = std::strlen(suffix);
    return lower.size() > n && lower.compare(lower.size() - n, n, suffix) == 0;
  };
  return ends(".jpg") || ends(".jpeg");
}

}  // namespace

DirSource::DirSource(std::string path, const SourceOptions& options)
    : ThreadedSource(options), path_(std::move(path)), options_(options) {}

std::string DirSource::default_description() const {
  return "dir:" + path_ + " at " + std::to_string(options_.fps) + " fps";
}

std::vector<std::string> DirSource::list() const {
  std::vector<std::string> names;
  DIR* dir = opendir(path_.c_str());
  if (dir == nullptr) return names;
  while (const dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.' && is_jpeg_name(entry->d_name)) names.emplace_back(entry->d_name);
  }
  closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

void DirSource::run() {
  const auto period = std::chrono::nanoseconds(1000000000LL / options_.fps);
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    const std::vector<std::string> names = list();  // again each loop: the folder may change
    if (names.empty()) set_status("no .jpg files in " + path_);
    bool problem = false;
    std::size_t shown = 0;
    for (const std::string& name : names) {
      Parsed<std::string> data = read_frame_file(path_ + "/" + name, options_.max_frame_bytes);
      if (!data) {  // skipped: it takes no turn of its own
        report_problem(data.error());
        problem = true;
        continue;
      }
      emit(std::move(data.value()));
      ++shown;
      next += period;
      const auto now = std::chrono::steady_clock::now();
      if (next < now - period) next = now;
      if (!wait_until(next)) return;
    }
    if (!problem && shown > 0) set_status({});
    // Nothing to show: look again in a second rather than spin over the folder.
    if (shown == 0 && !wait_until(std::chrono::steady_clock::now() + std::chrono::seconds(1))) {
      return;
    }
  }
}

}  // namespace pushcgi::detail
