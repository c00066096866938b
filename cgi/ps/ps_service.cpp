#include "ps_service.hpp"

#include <string>

#include "pushcgi/client_pull.hpp"
#include "pushcgi/event_stream.hpp"
#include "pushcgi/fanout_metrics.hpp"
#include "pushcgi/json.hpp"
#include "pushcgi/log.hpp"
#include "pushcgi/multipart_stream.hpp"
#include "snapshot_codec.hpp"

namespace pushcgi {

namespace {

using Clock = std::chrono::steady_clock;

constexpr std::string_view kHtml = "text/html; charset=utf-8";

}  // namespace

PsService::PsService(PsOptions options)
    : options_(std::move(options)), table_(options_.proc_root, options_.show_args) {
  if (options_.source.empty()) {
    producer_.emplace(hub_, [this] { produce(); });
  } else {
    SourceOptions source;
    // Quiet for longer than a few of the publisher's intervals (taken to be ours): gone.
    source.source_timeout = std::chrono::seconds(2 * options_.interval + 10);
    source.netrc_file = options_.redis_netrc;
    // Longer than the time between two reloads of /pull, which would otherwise end and
    // begin the subscription each time.
    const auto linger = std::chrono::seconds(2 * options_.interval + 1);
    auto made = RedisSubscriber::create(hub_, options_.source, source, linger,
                                        [this](std::string message) { receive(message); });
    if (made) subscriber_ = std::move(made.value());
  }
  if (!options_.publish.empty()) {
    auto made = RedisPublisher::create<Snapshot>(
        hub_, options_.publish, "publish",
        [](const Snapshot& snapshot) { return encode_snapshot(snapshot.data); },
        std::chrono::seconds(options_.interval), options_.redis_netrc);
    if (made) publisher_ = std::move(made.value());
  }
}

// A message of the channel: another host's snapshot, shown as if taken here.
void PsService::receive(const std::string& message) {
  std::optional<ProcessSnapshot> decoded = decode_snapshot(message);
  if (!decoded) {
    undecodable_log_.log(LogLevel::warning, "a message on the channel is not a process snapshot");
    return;
  }
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->data = std::move(*decoded);
  const auto taken = snapshot->data.taken;
  hub_.publish(std::move(snapshot), taken);
}

void PsService::produce() {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->data = table_.take();
  const auto taken = snapshot->data.taken;
  hub_.publish(std::move(snapshot), taken);
}

void PsService::add_routes(Server& server) {
  server_ = &server;
  server.route("/", [this](const Request& q, Response& r) { live(q, r); });
  server.route("/push", [this](const Request& q, Response& r) { push(q, r); });
  server.route("/pull", [this](const Request& q, Response& r) { pull(q, r); });
  server.route("/events", [this](const Request& q, Response& r) { events(q, r); });
  server.route("/state", [this](const Request& q, Response& r) { state(q, r); });
  server.add_metrics([this](MetricsText& metrics) { write_metrics(metrics); });
}

void PsService::write_metrics(MetricsText& metrics) const {
  write_hub_metrics(metrics, {hub_figures("ps", hub_)});
  if (producer_) {
    metrics
        .family("pushcgi_producer_runs_total", MetricType::counter,
                "Times the producer ran (a process table read).")
        .sample(producer_->runs(), {{"hub", "ps"}});
    metrics
        .family("pushcgi_producer_cpu_seconds_total", MetricType::counter,
                "CPU time the producer's thread spent producing.")
        .sample(std::chrono::duration<double>(producer_->cpu_time()).count(), {{"hub", "ps"}});
  }
  metrics
      .family("pushcgi_ps_tables_rendered_total", MetricType::counter,
              "Process tables rendered to HTML (once per snapshot and view, shared by viewers).")
      .sample(tables_rendered_.load());
  if (subscriber_) write_source_metrics(metrics, {NamedSource{"ps", subscriber_->status()}});
  if (publisher_) write_publisher_metrics(metrics, {NamedPublisher{"ps", publisher_->status()}});
}

std::optional<PsView> PsService::parse_view(const Request& request, Response& response) const {
  const Query& query = request.query();
  const Parsed<unsigned> interval = query.get_unsigned("interval", 1, 3600, options_.interval);
  const Parsed<std::string> sort = query.get_choice("sort", {"pid", "cpu", "rss"}, "pid");
  const Parsed<unsigned> top = query.get_unsigned("top", 1, 100000, 0);
  for (const std::string* error : {&interval.error(), &sort.error(), &top.error()}) {
    if (!error->empty()) {
      response.send_error(400, *error);
      return std::nullopt;
    }
  }
  PsView view;
  view.interval = *interval;
  view.sort = *sort == "cpu"   ? ProcessSort::cpu
              : *sort == "rss" ? ProcessSort::rss
                               : ProcessSort::pid;
  view.top = *top;
  view.show_args = options_.show_args;
  view.base = std::string(request.script_name()) + "/";
  return view;
}

const ProcessRows& PsService::rows(const Snapshot& snapshot, ProcessSort sort) const {
  Snapshot::Sorted& sorted = snapshot.sorted.at(static_cast<std::size_t>(sort));
  std::call_once(sorted.once, [&] {
    ++tables_rendered_;
    sorted.rows = render_process_rows(snapshot.data, sort, options_.show_args);
  });
  return sorted.rows;
}

std::shared_ptr<const std::string> PsService::table(const Snapshot& snapshot,
                                                    const PsView& view) const {
  return snapshot.rendered.get("table/" + view.table_key(),
                               [&] { return process_table(rows(snapshot, view.sort), view.top); });
}

// The page is made when a snapshot no older than the view's interval is there (at once,
// unless the producer was idle): an event loop waits for it, not a worker.
void PsService::reply_page(Response& response, const PsView& view, const std::string& kind,
                           ResponseHead head,
                           std::function<std::string(const std::string& table)> document) {
  const ReplyFormat format = response.reply_format();
  const std::string key = kind + "/" + view.table_key() + "/" + view.base + "?" + view.query();
  const auto render = [this, format, view, key, head = std::move(head),
                       document = std::move(document)](const Hub<Snapshot>::Value& value,
                                                       Parts& parts) {
    auto text = value.data->rendered.get(key, [&] { return document(*table(*value.data, view)); });
    if (!format.render(head, *text, parts)) return false;
    parts.keep = std::move(text);
    return true;
  };
  // The pace is the producer's while the page waits (a page's first value is never held).
  response.reply_later(Pump(hub_, render)
                           .pace(std::chrono::seconds(view.interval))
                           .skip_older_than(std::chrono::seconds(view.interval))
                           .label("page")
                           .once(kSnapshotTimeout,
                                 format.error(503, "no process list yet", {{"Retry-After", "5"}})));
}

void PsService::live(const Request& request, Response& response) {
  const auto view = parse_view(request, response);
  if (!view) return;
  reply_page(
      response, *view, "live", uncached_head(kHtml),
      [view = *view](const std::string& table) { return render_live_document(table, view); });
}

void PsService::pull(const Request& request, Response& response) {
  const auto view = parse_view(request, response);
  if (!view) return;
  const Parsed<std::string> paused = request.query().get_choice("paused", {"0", "1"}, "0");
  if (!paused) {
    response.send_error(400, paused.error());
    return;
  }
  ResponseHead head = uncached_head(kHtml);
  const bool is_paused = *paused == "1";
  if (!is_paused) add_refresh(head, {view->interval, ""});
  reply_page(response, *view, is_paused ? "pull-paused" : "pull", std::move(head),
             [view = *view, is_paused](const std::string& table) {
               return render_pull_document(table, view, is_paused);
             });
}

void PsService::push(const Request& request, Response& response) {
  const auto view = parse_view(request, response);
  if (!view) return;
  MultipartStream stream(request, response, std::string(kHtml), {}, boundary_);
  const std::string key = "push/" + view->table_key() + "/" + view->base + "?" + view->query();
  const std::string dash_boundary = "--" + boundary_;
  const auto document =
      [this, view = *view, key,
       dash_boundary](const Hub<Snapshot>::Value& value) -> std::shared_ptr<const std::string> {
    auto text = value.data->rendered.get(key, [&] {
      std::string made = render_push_document(*table(*value.data, view), view);
      if (made.find(dash_boundary) == std::string::npos) return made;
      log(LogLevel::warning,
          "process list not sent: " + std::string(to_string(Error::boundary_in_body)));
      return std::string();
    });
    return text->empty() ? nullptr : text;
  };
  // No repeats between snapshots: every part replaces the whole page (and its scroll
  // position) in the browser.
  stream.pump(stream.part_pump(hub_, document, MultipartStream::BodyCheck::by_producer)
                  .pace(std::chrono::seconds(view->interval))
                  .skip_older_than(std::chrono::seconds(view->interval))
                  .label("push"));
}

void PsService::events(const Request& request, Response& response) {
  const auto view = parse_view(request, response);
  if (!view) return;
  EventStream stream(request, response);
  // Event "snapshot", id = the snapshot's number, data = the table: the same bytes for
  // every viewer of this view, made once per snapshot.
  const auto render = [this, view = *view](const Hub<Snapshot>::Value& value, Parts& parts) {
    auto event = value.data->rendered.get("events/" + view.table_key(), [&] {
      std::string_view data = *table(*value.data, view);
      if (!data.empty() && data.back() == '\n') data.remove_suffix(1);
      Event snapshot(data, "snapshot");
      const std::string id = std::to_string(value.seq);
      snapshot.id = id;
      std::string text;
      if (format_event(snapshot, text) != Error::none) text.clear();
      return text;
    });
    if (event->empty()) return false;
    parts.add(*event);
    parts.keep = std::move(event);
    return true;
  };
  stream.pump(Pump(hub_, render)
                  .pace(std::chrono::seconds(view->interval))
                  .skip_older_than(std::chrono::seconds(view->interval))
                  .send_when_idle(kHeartbeat, format_comment("heartbeat"))
                  .label("events"),
              std::chrono::milliseconds(2000));
}

void PsService::state(const Request&, Response& response) const {
  unsigned push = 0;
  unsigned events = 0;
  std::vector<SubscriptionStats> all = hub_.stats();
  for (const SubscriptionStats& viewer : all) {
    if (viewer.label == "push") ++push;
    if (viewer.label == "events") ++events;
  }
  const std::size_t total = all.size();
  std::vector<JsonObject> viewers;
  for (const SubscriptionStats& viewer : sample_viewers(std::move(all), kListedViewers)) {
    viewers.push_back(JsonObject()
                          .string("mode", viewer.label)
                          .seconds("interval_seconds", viewer.period)
                          .seconds("connected_seconds", viewer.connected)
                          .integer("snapshots_sent", viewer.taken)
                          .integer("snapshots_skipped", viewer.skipped));
  }
  JsonObject body;
  body.integer("open_streams", server_->open_streams())
      .object("streams", JsonObject().integer("push", push).integer("events", events))
      .array("viewers", viewers)
      .integer("viewers_total", total)
      .integer("snapshots_taken", hub_.published())
      .integer("producer_runs", producer_ ? producer_->runs() : 0)
      .seconds("producer_cpu_seconds",
               producer_ ? producer_->cpu_time() : std::chrono::nanoseconds::zero())
      .integer("tables_rendered", tables_rendered_.load());
  const Clock::duration period = hub_.min_period();
  if (period == Clock::duration::max()) {
    body.null("producer_period_seconds");
  } else {
    body.seconds("producer_period_seconds", period);
  }
  if (subscriber_) {
    body.object("source", to_json(subscriber_->status(), "messages_in"));
  }
  if (publisher_) {
    body.object("publish", to_json(publisher_->status(), "snapshots_published"));
  }
  body.integer("interval_default", options_.interval).integer("threads", server_->threads());
  response.send(uncached_head("application/json"), body.text() + "\n");
}

}  // namespace pushcgi
