// One shared latest value (a process list, a camera frame) and the viewers that want it.
//
// Newest value wins: a publisher replaces the value, it never queues, so a slow viewer
// skips to the newest one instead of falling behind. Every viewer receives the same value
// object (no copy per viewer). A producer learns from viewers() and on_change() whether
// anybody watches, so it can stop working when nobody does.
//
// The hub only says that a value is ready; it never waits and knows nothing of responses
// or connections. A subscription is told through its own descriptor (notify_fd(), for a
// thread that waits: Response::wait_for) or through a HubWatcher that stands for many
// subscriptions at once (an event loop, told once per publish whatever its number of
// viewers).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace pushcgi {

struct SubscriptionStats {
  std::string label;
  std::chrono::steady_clock::duration period{};
  std::chrono::steady_clock::duration connected{};
  std::uint64_t taken = 0;    // values sent to this viewer
  std::uint64_t skipped = 0;  // values published meanwhile that it never took
};

// At most limit of the viewers, for a /state page: all of them in order when there are
// no more; otherwise those that skipped most (the ones falling behind), then the longest
// connected. Ten thousand viewers would make a page of megabytes that takes longer to
// send than the streams' own parts.
std::vector<SubscriptionStats> sample_viewers(std::vector<SubscriptionStats> viewers,
                                              std::size_t limit);

// Told that a hub has a new value. Called by the publishing thread with the hub's
// subscription lock held: it must be quick, must not block and must not call the hub.
class HubWatcher {
 public:
  virtual void value_ready() = 0;

 protected:
  ~HubWatcher() = default;
};

namespace detail {

// The type-erased machinery behind Hub<T>.
class HubCore {
 public:
  struct Entry {
    std::shared_ptr<const void> data;
    std::uint64_t seq = 0;  // 0: nothing published yet
    std::chrono::system_clock::time_point produced;
    std::chrono::steady_clock::time_point published;
  };

  class Subscription {
   public:
    // With a watcher, the watcher is told of new values; without, notify_fd() is.
    Subscription(HubCore& hub, std::chrono::steady_clock::duration period, std::string label,
                 HubWatcher* watcher = nullptr);
    ~Subscription();
    Subscription(const Subscription&) = delete;
    Subscription& operator=(const Subscription&) = delete;

    bool ready() const { return eligible(hub_.latest()); }
    bool eligible(const Entry& entry) const;
    int notify_fd() const { return notify_fd_; }
    void clear_notification() const;
    Entry take();
    Entry take(const Entry& latest);  // latest: hub().latest() read just before
    void pass(const Entry& entry);
    void skip_stale(std::chrono::steady_clock::duration max_age);
    Entry last() const;
    SubscriptionStats stats() const;
    std::chrono::steady_clock::duration period() const { return period_; }

   private:
    friend class HubCore;
    class OwnDescriptor;

    HubCore& hub_;
    const std::chrono::steady_clock::duration period_;
    const std::string label_;
    const std::chrono::steady_clock::time_point since_ = std::chrono::steady_clock::now();
    int notify_fd_ = -1;
    std::unique_ptr<OwnDescriptor> own_;  // the watcher of a subscription without one
    HubWatcher* watcher_;
    std::size_t index_ = 0;  // in hub_.subscriptions_
    // Only the viewer's own thread touches these two.
    Entry last_;                   // the value taken last
    std::uint64_t accounted_ = 0;  // the newest seq counted as taken or skipped
    bool passed_counted_ = false;  // accounted_ was counted as skipped by pass()
    std::atomic<std::uint64_t> taken_{0};
    std::atomic<std::uint64_t> skipped_{0};
    // skipped_ as its last take settled it (pass() counts a skip that a take may undo): what
    // the hub's total counts, so that the total never goes down.
    std::atomic<std::uint64_t> settled_{0};
  };

  HubCore() = default;
  ~HubCore();
  HubCore(const HubCore&) = delete;
  HubCore& operator=(const HubCore&) = delete;

  void publish(std::shared_ptr<const void> data, std::chrono::system_clock::time_point produced);
  Entry latest() const;
  unsigned viewers() const;
  std::uint64_t published() const;
  // Values taken by its viewers, and values they skipped, since the hub was made: the
  // viewers' own counts, summed when asked (a viewer adds to no shared counter per value).
  std::uint64_t delivered() const;
  std::uint64_t skipped() const;
  std::chrono::steady_clock::duration min_period() const;
  std::vector<SubscriptionStats> stats() const;
  void on_change(std::function<void(unsigned viewers)> callback);

 private:
  struct Watching {
    HubWatcher* watcher;
    unsigned subscriptions;
  };

  void add(Subscription* subscription);
  void remove(Subscription* subscription);
  void changed() const;

  mutable std::mutex mutex_;  // guards latest_
  Entry latest_;
  // Apart, so that woken viewers taking the value never wait for the notifying to end.
  mutable std::mutex subscriptions_mutex_;  // guards what follows
  std::vector<Subscription*> subscriptions_;
  std::uint64_t delivered_before_ = 0;  // by the viewers gone
  std::uint64_t skipped_before_ = 0;
  std::vector<Watching> watchers_;  // each told once per publish
  // Apart again, so that a callback may read the hub (viewers(), min_period()) and lock its
  // own state while a producer holding that state reads the hub.
  mutable std::mutex callback_mutex_;  // guards on_change_; held while it runs
  std::function<void(unsigned)> on_change_;
};

}  // namespace detail

template <typename T>
class Hub {
 public:
  struct Value {
    std::shared_ptr<const T> data;  // null before the first publish
    std::uint64_t seq = 0;          // 1, 2, 3, ... in publishing order
    std::chrono::system_clock::time_point produced;
  };

  // A viewer's membership; it counts as watching from construction to destruction. Its
  // methods are for one thread at a time (the viewer's); stats() for any.
  class Subscription {
   public:
    // period: this viewer wants a value at most this often (0: every value). A value
    // published less than 7/8 of period after the one taken last is skipped.
    // watcher: told of new values instead of notify_fd() (see HubWatcher).
    Subscription(Hub& hub, std::chrono::steady_clock::duration period, std::string label = {},
                 HubWatcher* watcher = nullptr)
        : core_(hub.core_, period, std::move(label), watcher) {}

    // take() has a value newer than the last one taken and due for this viewer.
    bool ready() const { return core_.ready(); }
    // Readable once a value is published after the last clear_notification() (-1 with a
    // watcher). Check ready() after clearing, then wait: a publish in between leaves it
    // readable, so none is missed.
    int notify_fd() const { return core_.notify_fd(); }
    void clear_notification() const { core_.clear_notification(); }
    // The newest value, which becomes the last one taken (values in between count as
    // skipped).
    Value take() { return convert(core_.take()); }
    // The value taken last (to repeat it).
    Value last() const { return convert(core_.last()); }
    // If the newest value was published more than max_age ago (its producer was idle),
    // it is ignored: ready() waits for a fresh one.
    void skip_stale(std::chrono::steady_clock::duration max_age) { core_.skip_stale(max_age); }
    SubscriptionStats stats() const { return core_.stats(); }

   private:
    detail::HubCore::Subscription core_;
  };

  void publish(std::shared_ptr<const T> data,
               std::chrono::system_clock::time_point produced = std::chrono::system_clock::now()) {
    core_.publish(std::move(data), produced);
  }
  Value latest() const { return convert(core_.latest()); }
  unsigned viewers() const { return core_.viewers(); }
  std::uint64_t published() const { return core_.published(); }
  // Values its viewers took, and values they skipped (a slow viewer gets the newest).
  std::uint64_t delivered() const { return core_.delivered(); }
  std::uint64_t skipped() const { return core_.skipped(); }
  // The smallest period among the viewers (duration::max() with none): how often a
  // periodic producer must run.
  std::chrono::steady_clock::duration min_period() const { return core_.min_period(); }
  std::vector<SubscriptionStats> stats() const { return core_.stats(); }
  // Called after every subscribe and unsubscribe with the number of viewers at the time
  // of the call (it may start or stop a producer), on the thread that subscribed or
  // unsubscribed: often an event loop, so it must be quick and must not block. Calls never overlap
  // and each reads the count when it runs, so the last call has the real count however viewers come
  // and go. The callback may read the hub but must not subscribe, unsubscribe or call on_change (it
  // would deadlock). Setting waits for a call under way, so after on_change(nullptr) returns the
  // old callback is not running. Set it before the first viewer.
  void on_change(std::function<void(unsigned viewers)> callback) {
    core_.on_change(std::move(callback));
  }

  // For the runtime's pumps (pump.hpp), which hold values type-erased.
  detail::HubCore& core() { return core_; }
  static Value convert(const detail::HubCore::Entry& entry) {
    return Value{std::static_pointer_cast<const T>(entry.data), entry.seq, entry.produced};
  }

 private:
  detail::HubCore core_;
};

}  // namespace pushcgi
