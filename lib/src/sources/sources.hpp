// The frame sources behind make_source().
#pragma once

#include <string>
#include <vector>

#include "pushcgi/sources/source.hpp"
#include "pushcgi/sources/testcard.hpp"

namespace pushcgi::detail {

// A generated picture at a steady rate, scheduled by deadline.
class TestcardSource : public ThreadedSource {
 public:
  explicit TestcardSource(const SourceOptions& options);
  std::string describe() const override;

 private:
  void run() override;
  SourceOptions options_;
  std::uint64_t next_number_ = 1;  // only the source's thread touches it
};

// A JPEG that another program rewrites: a frame each time the file is closed after
// writing or renamed into place (inotify), never a half-written file.
class FileSource : public ThreadedSource {
 public:
  FileSource(std::string path, const SourceOptions& options);
  std::string describe() const override;

 private:
  void run() override;
  void read_frame();
  std::string path_;
  SourceOptions options_;
};

// The JPEGs of a folder in name order, looping, at a steady rate.
class DirSource : public ThreadedSource {
 public:
  DirSource(std::string path, const SourceOptions& options);
  std::string describe() const override;

 private:
  void run() override;
  std::vector<std::string> list() const;
  std::string path_;
  SourceOptions options_;
};

// A program that writes MJPEG to its standard output, started without a shell, restarted
// with backoff when it exits, and never left running: it is in its own process group, gets
// SIGTERM (then SIGKILL) on stop, and SIGKILL if this thread dies.
class ExecSource : public ThreadedSource {
 public:
  ExecSource(std::vector<std::string> argv, const SourceOptions& options);
  std::string describe() const override;

 private:
  void run() override;
  struct ChildEnd {
    bool healthy;        // it ran long enough to reset the backoff
    std::string reason;  // why it ended, for the status
  };
  // Runs the child once until it exits or the source stops.
  ChildEnd run_child();
  std::vector<std::string> argv_;
  SourceOptions options_;
};

}  // namespace pushcgi::detail
