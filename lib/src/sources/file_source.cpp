#include <fcntl.h>
#include <poll.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <cstring>

#include "frame_file.hpp"
#include "runtime/unique_fd.hpp"
#include "sources.hpp"

namespace pushcgi::detail {

namespace {

std::string parent_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string base_of(const std::string& path) {
  const std::size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

}  // namespace

FileSource::FileSource(std::string path, const SourceOptions& options)
    : ThreadedSource(options), path_(std::move(path)), options_(options) {}

std::string FileSource::default_description() const {
  return "file:" + path_;
}

void FileSource::read_frame() {
  Parsed<std::string> data = read_frame_file(path_, options_.max_frame_bytes);
  if (!data) {
    report_problem(data.error());
    return;
  }
  set_status({});
  emit(std::move(data.value()));
}

void FileSource::run() {
  // Watch the folder, not the file: writers often replace the file by renaming a new one
  // over it, which a watch on the old file would never report.
  const UniqueFd inotify(inotify_init1(IN_CLOEXEC | IN_NONBLOCK));
  const std::string dir = parent_of(path_);
  const std::string name = base_of(path_);
  if (!inotify || inotify_add_watch(inotify.get(), dir.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO) < 0) {
    set_status("cannot watch " + dir + ": " + std::strerror(errno));
    return;
  }
  if (::access(path_.c_str(), R_OK) == 0) read_frame();  // the picture there now
  alignas(inotify_event) char events[8192];
  for (;;) {
    pollfd fds[2] = {{inotify.get(), POLLIN, 0}, {stop_fd(), POLLIN, 0}};
    if (poll(fds, 2, -1) < 0 && errno != EINTR) return;
    if (fds[1].revents & POLLIN) return;
    const ssize_t n = ::read(inotify.get(), events, sizeof events);
    bool changed = false;
    for (ssize_t at = 0; at < n;) {
      const auto* event = reinterpret_cast<const inotify_event*>(events + at);
      if (event->len > 0 && name == event->name) changed = true;
      at += static_cast<ssize_t>(sizeof(inotify_event) + event->len);
    }
    if (changed) read_frame();
  }
}

}  // namespace pushcgi::detail
