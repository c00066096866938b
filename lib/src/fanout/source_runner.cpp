#include "pushcgi/source_runner.hpp"

#include <cstring>

#include "pushcgi/jpeg.hpp"
#include "pushcgi/log.hpp"
#include "pushcgi/multipart.hpp"

namespace pushcgi {

SourceRunner::SourceRunner(Hub<Frame>& hub, std::unique_ptr<FrameSource> source,
                           std::chrono::milliseconds linger, std::string boundary,
                           bool skip_unchanged)
    : hub_(hub),
      source_(std::move(source)),
      linger_(linger),
      skip_unchanged_(skip_unchanged),
      dash_boundary_("--" + boundary),
      length_writer_(Framing::length, "image/jpeg", {}, boundary) {
  hub_.on_change([this](unsigned viewers) {
    {
      const std::lock_guard<std::mutex> lock(mutex_);
      viewers_ = viewers;
      if (viewers == 0) last_viewer_left_ = std::chrono::steady_clock::now();
    }
    changed_.notify_all();
  });
  thread_ = std::thread([this] { control(); });
}

SourceRunner::~SourceRunner() {
  hub_.on_change(nullptr);
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

// Starts and stops the source on this thread, so that a viewer arriving or leaving never
// waits for a camera program to start or exit.
void SourceRunner::control() {
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    if (viewers_ > 0 && !running_) {
      running_ = true;
      ++starts_;
      started_at_ = std::chrono::steady_clock::now();
      lock.unlock();
      log(LogLevel::info, "starting the source: " + source_->log_name());
      source_->start(
          [this](std::string jpeg) { accept(std::move(jpeg)); },
          [this](std::string_view reason, std::uint64_t count) { count_drop(reason, count); });
      lock.lock();
      continue;
    }
    if (viewers_ == 0 && running_) {
      const auto stop_at = last_viewer_left_ + linger_;
      if (std::chrono::steady_clock::now() < stop_at) {
        changed_.wait_until(lock, stop_at);
        continue;
      }
      running_ = false;
      lock.unlock();
      source_->stop();
      drop_log_.flush(LogLevel::warning);
      log(LogLevel::info, "stopped the source: " + source_->log_name() + " (nobody watches)");
      lock.lock();
      continue;
    }
    changed_.wait(lock);
  }
  if (running_) {
    lock.unlock();
    source_->stop();
    drop_log_.flush(LogLevel::warning);
  }
}

// The last frame published in this run of the source (one of an earlier run is stale, and
// its first frame goes out whatever it holds).
bool SourceRunner::same_as_last(const std::string& jpeg) const {
  const Hub<Frame>::Value last = hub_.latest();
  const auto since = running_since();
  return last.data && since && last.data->published_at >= *since && last.data->jpeg == jpeg;
}

void SourceRunner::accept(std::string jpeg) {
  const auto produced = std::chrono::system_clock::now();
  const std::optional<JpegInfo> info = inspect_jpeg(jpeg);
  const bool has_boundary =
      memmem(jpeg.data(), jpeg.size(), dash_boundary_.data(), dash_boundary_.size()) != nullptr;
  if (!info || has_boundary) {
    const std::string reason = !info ? "not a whole JPEG" : "contains the multipart boundary";
    record_drop("dropped a frame of " + std::to_string(jpeg.size()) + " bytes: " + reason, reason,
                1);
    return;
  }
  frames_in_.add();
  if (skip_unchanged_ && same_as_last(jpeg)) {
    const std::lock_guard<std::mutex> lock(mutex_);
    ++unchanged_;
    return;
  }
  auto frame = std::make_shared<Frame>();
  frame->width = info->width;
  frame->height = info->height;
  frame->produced = produced;
  frame->number = next_number();
  // X-Frame: which frame this is, for clients that compare viewers (and the tests).
  frame->length_head =
      length_writer_.part_head(jpeg.size(), produced, {{"X-Frame", std::to_string(frame->number)}});
  frame->jpeg = std::move(jpeg);
  frame->published_at = std::chrono::steady_clock::now();
  hub_.publish(std::move(frame), produced);
}

std::optional<std::chrono::steady_clock::time_point> SourceRunner::running_since() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (!running_) return std::nullopt;
  return started_at_;
}

void SourceRunner::count_drop(std::string_view reason, std::uint64_t count) {
  record_drop((count == 1 ? std::string("dropped a frame: ")
                          : "dropped " + std::to_string(count) + " frames, the last: ") +
                  std::string(reason),
              reason, count);
}

void SourceRunner::record_drop(const std::string& message, std::string_view reason,
                               std::uint64_t count) {
  drop_log_.log(LogLevel::warning, source_->log_name() + ": " + message, count);
  const std::lock_guard<std::mutex> lock(mutex_);
  dropped_ += count;
  drop_reason_ = reason;
}

std::uint64_t SourceRunner::next_number() {
  const std::lock_guard<std::mutex> lock(mutex_);
  return ++number_;
}

JsonObject to_json(const SourceStatus& status, std::string_view received) {
  return JsonObject()
      .string("describe", status.describe)
      .boolean("running", status.running)
      .integer("starts", status.starts)
      .integer(received, status.frames_in)
      .string("problem", status.problem)
      .integer("incidents", status.incidents.count)
      .string("last_incident", status.incidents.last);
}

SourceStatus SourceRunner::status() const {
  SourceStatus status;
  status.describe = source_->describe();
  status.frames_in = frames_in_.total();
  status.frames_in_per_second = frames_in_.per_second();
  // Incidents first: a source records an incident and its status together, so a reader that
  // sees the incident sees the status too (the other order could show the incident, and the
  // status from before it).
  status.incidents = source_->incidents();
  if (const auto cpu = source_->cpu_time()) {
    status.cpu_seconds = std::chrono::duration<double>(*cpu).count();
  }
  const std::string problem = source_->status();
  const std::lock_guard<std::mutex> lock(mutex_);
  status.running = running_;
  status.starts = starts_;
  status.frames_dropped = dropped_;
  status.frames_unchanged = unchanged_;
  status.problem = problem.empty() ? drop_reason_ : problem;
  return status;
}

}  // namespace pushcgi
