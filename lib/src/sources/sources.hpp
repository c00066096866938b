// The frame sources behind make_source().
#pragma once

#include <curl/curl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "pushcgi/sources/source.hpp"
#include "pushcgi/sources/testcard.hpp"
#include "redis_source.hpp"

namespace pushcgi::detail {

// A generated picture at a steady rate, scheduled by deadline.
class TestcardSource : public ThreadedSource {
 public:
  explicit TestcardSource(const SourceOptions& options);

 private:
  std::string default_description() const override;
  void run() override;
  SourceOptions options_;
  std::uint64_t next_number_ = 1;  // only the source's thread touches it
};

// A JPEG that another program rewrites: a frame each time the file is closed after
// writing or renamed into place (inotify), never a half-written file.
class FileSource : public ThreadedSource {
 public:
  FileSource(std::string path, const SourceOptions& options);
  std::string default_description() const override;

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
  std::string default_description() const override;

 private:
  void run() override;
  std::vector<std::string> list() const;
  std::string path_;
  SourceOptions options_;
};

// A program that writes MJPEG to its standard output, started without a shell, restarted
// with backoff when it exits, and never left running: it runs under a keeper (keeper.hpp)
// that kills it, and every process it started, on stop or when webcam.fcgi dies, even by
// SIGKILL. It inherits standard error and nothing else: /dev/null as standard input, no
// other descriptor, and only the environment exec_environment() gives.
class ExecSource : public ThreadedSource {
 public:
  ExecSource(std::vector<std::string> argv, const SourceOptions& options);
  std::string default_description() const override;

 private:
  void run() override;
  struct ChildEnd {
    bool healthy;        // it ran long enough to reset the backoff
    std::string reason;  // why it ended, for the status
  };
  struct Reading {
    enum class End { closed, silent, stopping } end = End::closed;
    std::uint64_t bytes_since_frame = 0;  // for the silent child's incident
  };
  // Runs the child once until it exits or the source stops.
  ChildEnd run_child();
  // Hands over the frames of the child's output until it closes it, hands over no whole
  // frame for source_timeout, or the source stops.
  Reading read_frames(int output);
  std::vector<std::string> argv_;
  std::vector<std::string> env_;
  SourceOptions options_;
};

// An IP camera over HTTP or HTTPS (libcurl's multi interface, so that stop() is immediate
// even during DNS, connect or TLS), one connection for every viewer. What it is follows from
// the response's Content-Type: multipart/* is an MJPEG stream whose JPEGs are passed on byte
// for byte (found by the splitter, whatever the boundary or the part headers); image/* is a
// snapshot camera, asked again at options.fps on the same connection; anything else is
// tried as a bare MJPEG byte stream, and is a snapshot camera too when its answer is one
// whole JPEG and the end. The environment's proxy variables are ignored. A stream that hands over
// no whole frame for source_timeout is dropped; failures are retried with the exec: backoff and
// told in words by status() and the incidents. The URL's user-info and query are never shown.
class HttpSource : public ThreadedSource {
 public:
  // description: public_url(url), what describe() shows.
  HttpSource(std::string url, std::string description, const SourceOptions& options);
  std::string default_description() const override;

 private:
  struct Transfer;
  struct Ending {
    bool stopping = false;
    bool snapshot = false;  // a snapshot was taken and handed over: no failure
    bool healthy = false;   // frames came for Backoff::kHealthyRun
    std::string reason;     // why it failed, for the status and the incident
  };
  void run() override;
  // One request, until its response ends, the watchdog drops it, or the source stops.
  Ending transfer(CURLM* multi, CURL* easy);
  Ending judge(Transfer& transfer, CURLcode code);
  void configure(CURL* easy) const;
  static std::size_t on_body(char* data, std::size_t size, std::size_t count, void* transfer);
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* transfer);
  void begin_body(Transfer& transfer);
  void frame_arrived(Transfer& transfer, std::string jpeg);
  std::string url_;
  std::string description_;
  SourceOptions options_;
  // An answer of this URL held several frames without a multipart type: a bare MJPEG stream,
  // whose one-frame answers are failures, not snapshots. Source thread only.
  bool bare_stream_seen_ = false;
  bool receiving_ = false;  // frames are coming (for one log line per recovery); source thread
};

// Once per program, before any HttpSource runs: libcurl's global setup is not thread-safe
// in every build (make_source calls it, from the thread that parses the options).
void init_curl_once();

// The exec: child's whole environment: PATH (with a default), HOME and LANG as this
// program has them, then each of passed: NAME copies this program's value (if it has one),
// NAME=VALUE sets one; a later entry replaces an earlier one of the same name. Nothing else:
// in CGI mode the environment holds the request (HTTP_COOKIE, HTTP_AUTHORIZATION).
std::vector<std::string> exec_environment(const std::vector<std::string>& passed);

}  // namespace pushcgi::detail
