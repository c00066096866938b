// The live process list behind ps.fcgi: one producer reads /proc once per interval while
// anybody watches, and every viewer, whatever the route, gets that same snapshot.
//
// Routes (below the program's mount point):
//   /        a page that updates itself: EventSource where scripts run, client pull without
//   /push    multipart/x-mixed-replace of whole HTML documents (Firefox replaces the page)
//   /pull    client pull: Refresh header and <meta http-equiv="refresh">
//   /events  Server-Sent Events: event "snapshot", id = snapshot number, data = the table
//            as an HTML fragment; a comment line after a second of quiet
//   /state   JSON: open streams, viewers, snapshots taken, producer CPU time, tables
//            rendered
// Query: interval=SECONDS (1-3600), sort=pid|cpu|rss, top=N (1-100000); pull also takes
// paused=1. A bad value gets 400 with a one-line reason.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "process_table.hpp"
#include "ps_view.hpp"
#include "pushcgi/hub.hpp"
#include "pushcgi/multipart.hpp"
#include "pushcgi/periodic_producer.hpp"
#include "pushcgi/redis_publisher.hpp"
#include "pushcgi/redis_subscriber.hpp"
#include "pushcgi/render_cache.hpp"
#include "pushcgi/server.hpp"

namespace pushcgi {

struct PsOptions {
  unsigned interval = 5;   // default seconds between snapshots
  bool show_args = false;  // command lines can hold passwords: off by default
  std::string proc_root = "/proc";
  // A redis:// URL (checked): the snapshots come from that channel, where another host's
  // ps.fcgi --publish puts its own, instead of from proc_root. "" for none.
  std::string source;
  // A redis:// URL (checked): this program's snapshots go there while any program
  // subscribes (at least every `interval` seconds). "" for none.
  std::string publish;
  // A .netrc file with Redis's password (machine HOST login USER password PASSWORD) for URLs
  // without one: a password on the command line is readable by every local user.
  std::string redis_netrc;
};

class PsService {
 public:
  // A quiet event stream sends a comment this often: it keeps proxies from timing out and
  // shows a departed viewer (Firefox notices a closed tab only when bytes arrive).
  static constexpr std::chrono::seconds kHeartbeat{1};
  // /state lists this many viewers at most (those falling behind first), and counts all.
  static constexpr std::size_t kListedViewers = 100;
  // How long a page waits for a snapshot before it answers 503.
  static constexpr std::chrono::seconds kSnapshotTimeout{10};

  explicit PsService(PsOptions options);
  PsService(const PsService&) = delete;
  PsService& operator=(const PsService&) = delete;

  void add_routes(Server& server);

  std::uint64_t snapshots_taken() const { return hub_.published(); }

 private:
  struct Snapshot {
    struct Sorted {
      std::once_flag once;
      ProcessRows rows;
    };
    ProcessSnapshot data;
    // The rows in each sort order, rendered by the first viewer that wants them: three
    // renderings per snapshot at most, whatever the query. (Cached by query, one client
    // asking for top=1, 2, 3... filled the cache and left every other viewer rendering
    // for itself.)
    mutable std::array<Sorted, 3> sorted;  // by ProcessSort: pid, cpu, rss
    // Tables and documents cut from those rows, shared by viewers of the same query; past
    // the cache's limit they are copied again, never rendered again.
    RenderCache rendered;
  };

  std::optional<PsView> parse_view(const Request& request, Response& response) const;
  const ProcessRows& rows(const Snapshot& snapshot, ProcessSort sort) const;
  std::shared_ptr<const std::string> table(const Snapshot& snapshot, const PsView& view) const;
  void reply_page(Response& response, const PsView& view, const std::string& kind,
                  ResponseHead head, std::function<std::string(const std::string& table)> document);
  void produce();
  void receive(const std::string& message);

  void live(const Request& request, Response& response);
  void push(const Request& request, Response& response);
  void pull(const Request& request, Response& response);
  void events(const Request& request, Response& response);
  void state(const Request& request, Response& response) const;
  void write_metrics(MetricsText& metrics) const;

  const PsOptions options_;
  // One boundary for every /push stream: each document is checked for it once.
  const std::string boundary_ = random_boundary();
  const Server* server_ = nullptr;
  ProcessTable table_;  // the producer's alone
  // Rows rendered from snapshots (/state): one per snapshot and sort order in use.
  mutable std::atomic<std::uint64_t> tables_rendered_{0};
  LogThrottle undecodable_log_{"messages that are no snapshot", std::chrono::seconds(10)};
  Hub<Snapshot> hub_;
  // One of the two makes the snapshots: this host's /proc, or another host's through Redis.
  std::optional<PeriodicProducer> producer_;
  std::unique_ptr<RedisSubscriber> subscriber_;
  std::unique_ptr<RedisPublisher> publisher_;  // last: watches the hub like a viewer
};

}  // namespace pushcgi
