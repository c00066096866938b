// Where frames come from. A source runs on its own thread between start() and stop(), and
// hands over each frame's bytes; checking them is the caller's job (SourceRunner).
#pragma once

#include <time.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pushcgi/error.hpp"
#include "pushcgi/log.hpp"

namespace pushcgi {

// What went wrong with a source since the program started, for /state: how often, and the
// last time (with the wall-clock time it happened).
struct SourceIncidents {
  unsigned count = 0;
  std::string last;
  // Counts one more and keeps what happened, after the local time ("2026-11-26 23:00:13:
  // Redis closed the connection").
  void add(const std::string& what);
};

class FrameSource {
 public:
  using Emit = std::function<void(std::string jpeg)>;
  using Drop = std::function<void(std::string_view reason, std::uint64_t count)>;

  virtual ~FrameSource() = default;
  // Starts producing; emit() is called on the source's thread for each frame, drop() for
  // broken ones it did not hand over (a truncated frame in a stream): how many, and why the
  // last one was. A stream can break tens of thousands a second, so they come in batches.
  virtual void start(Emit emit, Drop drop = {}) = 0;
  // Stops and joins; emit() is not called once it returns. Idempotent.
  virtual void stop() = 0;
  // What it is, for /state and the log: "testcard 640x480 at 15 fps", "exec: ffmpeg" (the
  // program's name, never its arguments: they may hold a password), or the operator's label.
  virtual std::string describe() const = 0;
  // What log lines call it: describe(), after the camera's name when the program has
  // several ("camera door: exec: ffmpeg").
  virtual std::string log_name() const { return describe(); }
  // What it is doing, for /state ("child exited with status 1; restart in 2 s"); "" when
  // all is well.
  virtual std::string status() const { return {}; }
  // Faults it recovered or is recovering from (a child that crashed, hung or wrote no
  // JPEG); they stay counted after the source is well again.
  virtual SourceIncidents incidents() const { return {}; }
  // The CPU time it has taken to produce, over all its runs, if it knows (/metrics).
  virtual std::optional<std::chrono::nanoseconds> cpu_time() const { return std::nullopt; }
};

struct SourceOptions {
  unsigned fps = 15;
  int width = 640;
  int height = 480;
  std::size_t max_frame_bytes = 8 << 20;
  // exec: a child that hands over no whole frame for this long (hung, or writing something
  // that is not MJPEG) is killed and restarted. http(s): a stream that hands over no whole
  // frame for this long is dropped and reconnected; a snapshot request gets this long.
  std::chrono::seconds source_timeout{10};
  // What describe() answers instead of its default, when not empty (--source-label).
  std::string label;
  // The camera's name when a program has several cameras (log lines begin with it).
  std::string camera;
  // exec: what the child's environment holds beyond PATH, HOME and LANG (--source-env):
  // NAME (this program's value) or NAME=VALUE.
  std::vector<std::string> environment;
  // http(s): a .netrc file with the cameras' credentials (machine HOST login USER password
  // PASS), for URLs without user-info (--source-netrc); "" for none.
  std::string netrc_file;
  // https: the CA or self-signed certificate (PEM) that cameras are checked against instead
  // of the system's CA bundle (--source-ca); "" for the system's.
  std::string ca_file;
};

// testcard | file:PATH | dir:PATH | exec:PROGRAM ARGS... (the words split as a shell would
// split them, with '...' and "..." quoting, but no shell and no expansion) |
// http://[USER:PASSWORD@]HOST[:PORT]/PATH (or https://): an MJPEG stream relayed frame by
// frame, or a still JPEG polled at options.fps. Other URL schemes are refused.
Parsed<std::unique_ptr<FrameSource>> make_source(std::string_view spec,
                                                 const SourceOptions& options);

// Word splitting of exec: commands; refused for an unclosed quote or no words.
Parsed<std::vector<std::string>> split_words(std::string_view text);

namespace detail {

// The thread and interruptible waits every source needs.
class ThreadedSource : public FrameSource {
 public:
  ~ThreadedSource() override;
  void start(Emit emit, Drop drop = {}) final;
  void stop() final;
  std::string status() const override;
  SourceIncidents incidents() const override;
  // Its thread's (an exec: source's child's is its own process's).
  std::optional<std::chrono::nanoseconds> cpu_time() const override;
  // The operator's label when there is one (--source-label), else default_description().
  std::string describe() const final;
  std::string log_name() const final;

 protected:
  // Takes the label and the camera's name from options.
  explicit ThreadedSource(const SourceOptions& options);
  // What the source is when the operator gave no label.
  virtual std::string default_description() const = 0;
  // Produces until stopping() (checked through wait_*); runs on the source's thread.
  virtual void run() = 0;
  void emit(std::string jpeg) { emit_(std::move(jpeg)); }
  void drop(std::string_view reason, std::uint64_t count = 1) {
    if (drop_) drop_(reason, count);
  }
  // Sleeps until deadline; false if the source is being stopped.
  bool wait_until(std::chrono::steady_clock::time_point deadline) const;
  // The descriptor that becomes readable when the source is being stopped.
  int stop_fd() const { return stop_fd_; }
  void set_status(std::string status);
  // Something the source cannot use (a file that is not a regular one): the status, and a
  // warning, at most one line per 10 s, since a folder is read again and again.
  void report_problem(const std::string& problem);
  // Counts an incident and keeps its description (what), stamped with the local time, and
  // sets the status, in one step: a reader of incidents() then status() that sees the
  // incident sees its status.
  void record_failure(const std::string& what, std::string status);

 private:
  const std::string label_;
  const std::string camera_;
  int stop_fd_;
  Emit emit_;
  Drop drop_;
  std::thread thread_;
  mutable std::mutex cpu_mutex_;  // guards the three below
  clockid_t cpu_clock_{};         // the running thread's CPU clock
  bool cpu_running_ = false;
  std::chrono::nanoseconds cpu_before_{0};  // the runs that ended
  mutable std::mutex status_mutex_;         // guards status_ and incidents_
  std::string status_;
  SourceIncidents incidents_;
  LogThrottle problem_log_{"problems with the source", std::chrono::seconds(10)};
};

}  // namespace detail
}  // namespace pushcgi
