#include "camera.hpp"

#include <algorithm>

#include "pushcgi/client_pull.hpp"
#include "pushcgi/multipart_stream.hpp"
#include "webcam_view.hpp"

namespace pushcgi {

namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Camera::Camera(std::string name, std::unique_ptr<FrameSource> source, CameraSettings settings)
    : name_(std::move(name)),
      boundary_(random_boundary()),
      runner_(hub_, std::move(source), settings.linger, boundary_, settings.skip_unchanged) {
  if (!settings.publish.empty()) {
    auto made = RedisPublisher::create(hub_, settings.publish,
                                       (name_.empty() ? "" : "camera " + name_ + ": ") + "publish",
                                       settings.netrc_file);
    if (made) publisher_ = std::move(made.value());
  }
}

std::string Camera::describe() const {
  return runner_.status().describe;
}

std::pair<int, int> Camera::picture_size() const {
  if (const auto latest = hub_.latest(); latest.data) {
    return {latest.data->width, latest.data->height};
  }
  return {0, 0};
}

// A frame from an earlier run of the source is stale: older than this run.
Clock::duration Camera::max_frame_age() const {
  const auto since = runner_.running_since();
  return since ? Clock::now() - *since : Clock::duration::zero();
}

void Camera::page(const Request& request, Response& response) const {
  const Parsed<std::string> mode = request.query().get_choice("mode", {"stream", "pull"}, "stream");
  const Parsed<unsigned> interval = request.query().get_unsigned("interval", 1, 3600, 1);
  for (const std::string* error : {&mode.error(), &interval.error()}) {
    if (!error->empty()) {
      response.send_error(400, *error);
      return;
    }
  }
  WebcamPage page;
  const std::string root = std::string(request.script_name()) + "/";
  page.base = name_.empty() ? root : root + name_ + "/";
  if (!name_.empty()) {
    page.title = name_;
    page.describe = describe();
    page.listing = root;
  }
  std::tie(page.width, page.height) = picture_size();
  ResponseHead head = uncached_head("text/html; charset=utf-8");
  if (*mode == "stream") {
    response.send(std::move(head), render_webcam_page(page));
    return;
  }
  add_refresh(head, {*interval, ""});
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const long long cache_buster = std::chrono::duration_cast<std::chrono::milliseconds>(now).count();
  // The snapshot the page shows: pushed with the page over HTTP/2 where that still works.
  head.add_preload(page.base + "snapshot?t=" + std::to_string(cache_buster), "image");
  response.send(std::move(head), render_webcam_pull_page(page, *interval, cache_buster));
}

void Camera::stream(const Request& request, Response& response) {
  const Parsed<unsigned> fps = request.query().get_unsigned("fps", 1, 120, 0);
  if (!fps) {
    response.send_error(400, fps.error());
    return;
  }
  MultipartStream stream(request, response, "image/jpeg", {}, boundary_);
  const bool length_framing = stream.writer() && stream.writer()->framing() == Framing::length;
  // Every frame was checked for the shared boundary once, and its length-framing part head
  // made once (SourceRunner): a viewer's part is the frame's own bytes.
  const auto render = [length_framing](const Hub<Frame>::Value& value, Parts& parts) {
    if (length_framing) parts.add(value.data->length_head);
    parts.add(value.data->jpeg);
    parts.keep = value.data;
    return true;
  };
  const Clock::duration period =
      *fps > 0 ? Clock::duration(std::chrono::seconds(1)) / *fps : Clock::duration::zero();
  stream.pump(Pump(hub_, render)
                  .pace(period)
                  .repeat_when_idle(kRepeat)
                  .skip_older_than(max_frame_age())
                  .label("stream")
                  .on_sent([this] { frames_out_.add(); }));
}

// One JPEG from the running source: an event loop waits for it (the source may have to
// start first), not a worker.
void Camera::snapshot(const Request&, Response& response) {
  const ReplyFormat format = response.reply_format();
  const auto render = [format](const Hub<Frame>::Value& value, Parts& parts) {
    ResponseHead head = uncached_head("image/jpeg");
    head.add("X-Timestamp", format_timestamp(value.produced));
    if (!format.render(std::move(head), value.data->jpeg, parts)) return false;
    parts.keep = value.data;
    return true;
  };
  response.reply_later(
      Pump(hub_, render)
          .skip_older_than(max_frame_age())
          .label("snapshot")
          .once(kSnapshotTimeout,
                format.error(503, "no picture from the source yet", {{"Retry-After", "2"}})));
}

// Its viewers' streams (not the snapshots waiting for a frame).
std::vector<SubscriptionStats> Camera::stream_stats() const {
  std::vector<SubscriptionStats> streams = hub_.stats();
  streams.erase(std::remove_if(streams.begin(), streams.end(),
                               [](const SubscriptionStats& s) { return s.label != "stream"; }),
                streams.end());
  return streams;
}

std::size_t Camera::open_streams() const {
  return stream_stats().size();
}

void Camera::add_figures(JsonObject& object) const {
  const SourceStatus source = runner_.status();
  std::vector<SubscriptionStats> streams = stream_stats();
  const std::size_t total = streams.size();
  std::vector<JsonObject> viewers;
  for (const SubscriptionStats& viewer : sample_viewers(std::move(streams), kListedViewers)) {
    JsonObject& item = viewers.emplace_back();
    item.integer("frames_sent", viewer.taken)
        .integer("frames_skipped", viewer.skipped)
        .seconds("connected_seconds", viewer.connected);
    if (viewer.period.count() == 0) {
      item.null("fps_cap");
    } else {
      item.number("fps_cap", 1.0 / std::chrono::duration<double>(viewer.period).count());
    }
  }
  JsonObject source_fields = to_json(source, "frames_in");
  source_fields.number("frames_in_per_second", source.frames_in_per_second)
      .integer("frames_dropped", source.frames_dropped)
      .integer("frames_unchanged", source.frames_unchanged);
  if (publisher_) {
    object.object("publish", to_json(publisher_->status(), "frames_published"));
  }
  object.object("source", source_fields)
      .integer("frames_out", frames_out_.total())
      .number("frames_out_per_second", frames_out_.per_second())
      .array("viewers", viewers)
      .integer("viewers_total", total);
}

}  // namespace pushcgi
