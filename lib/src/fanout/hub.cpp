#include "pushcgi/hub.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <system_error>

namespace pushcgi {

std::vector<SubscriptionStats> sample_viewers(std::vector<SubscriptionStats> viewers,
                                              std::size_t limit) {
  if (viewers.size() <= limit) return viewers;
  const auto behind = [](const SubscriptionStats& a, const SubscriptionStats& b) {
    return a.skipped != b.skipped ? a.skipped > b.skipped : a.connected > b.connected;
  };
  std::partial_sort(viewers.begin(), viewers.begin() + static_cast<std::ptrdiff_t>(limit),
                    viewers.end(), behind);
  viewers.resize(limit);
  return viewers;
}

}  // namespace pushcgi

namespace pushcgi::detail {

// The watcher of a subscription that a thread waits on: an eventfd of its own.
class HubCore::Subscription::OwnDescriptor final : public HubWatcher {
 public:
  OwnDescriptor() : fd_(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) {
    if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  ~OwnDescriptor() { ::close(fd_); }
  OwnDescriptor(const OwnDescriptor&) = delete;
  OwnDescriptor& operator=(const OwnDescriptor&) = delete;

  void value_ready() override {
    const std::uint64_t one = 1;
    // Fails only when the counter is full, which still means "readable".
    [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
  }
  int fd() const { return fd_; }

 private:
  int fd_;
};

HubCore::Subscription::Subscription(HubCore& hub, std::chrono::steady_clock::duration period,
                                    std::string label, HubWatcher* watcher)
    : hub_(hub), period_(period), label_(std::move(label)), watcher_(watcher) {
  if (watcher_ == nullptr) {
    own_ = std::make_unique<OwnDescriptor>();
    notify_fd_ = own_->fd();
    watcher_ = own_.get();
  }
  hub_.add(this);
}

HubCore::Subscription::~Subscription() {
  hub_.remove(this);
}

bool HubCore::Subscription::eligible(const Entry& entry) const {
  if (entry.seq <= last_.seq) return false;
  if (last_.seq == 0 || period_.count() == 0) return true;
  // 7/8: a value produced on a matching schedule is never put off by jitter.
  return entry.published - last_.published >= period_ - period_ / 8;
}

void HubCore::Subscription::clear_notification() const {
  if (notify_fd_ < 0) return;
  std::uint64_t count;
  [[maybe_unused]] const ssize_t n = ::read(notify_fd_, &count, sizeof count);
}

HubCore::Entry HubCore::Subscription::take() {
  return take(hub_.latest());
}

HubCore::Entry HubCore::Subscription::take(const Entry& entry) {
  if (entry.seq > last_.seq) {
    if (entry.seq > accounted_) {
      if (accounted_ != 0) skipped_ += entry.seq - accounted_ - 1;
      accounted_ = entry.seq;
    } else if (passed_counted_) {
      skipped_ -= 1;  // pass() counted it as skipped, and it is taken after all
    }
    settled_.store(skipped_.load(std::memory_order_relaxed), std::memory_order_relaxed);
    passed_counted_ = false;
    taken_ += 1;
    last_ = entry;
  }
  return entry;
}

// A value this viewer could not take when it came (it was still writing the one before):
// skipped now, not only once the viewer takes a later one, so that /state shows a viewer
// that stopped reading.
void HubCore::Subscription::pass(const Entry& entry) {
  if (entry.seq <= accounted_) return;
  passed_counted_ = accounted_ != 0;
  if (passed_counted_) skipped_ += entry.seq - accounted_;
  accounted_ = entry.seq;
}

HubCore::Entry HubCore::Subscription::last() const {
  return last_;
}

void HubCore::Subscription::skip_stale(std::chrono::steady_clock::duration max_age) {
  const Entry entry = hub_.latest();
  if (entry.seq > last_.seq && std::chrono::steady_clock::now() - entry.published > max_age) {
    last_ = entry;  // seen, not sent: neither taken nor skipped
    accounted_ = entry.seq;
    passed_counted_ = false;
    settled_.store(skipped_.load(std::memory_order_relaxed), std::memory_order_relaxed);
  }
}

SubscriptionStats HubCore::Subscription::stats() const {
  return SubscriptionStats{label_, period_, std::chrono::steady_clock::now() - since_,
                           taken_.load(), skipped_.load()};
}

HubCore::~HubCore() = default;

void HubCore::publish(std::shared_ptr<const void> data,
                      std::chrono::system_clock::time_point produced) {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    latest_.data = std::move(data);
    latest_.seq += 1;
    latest_.produced = produced;
    latest_.published = std::chrono::steady_clock::now();
  }
  // A viewer that subscribes in between sees the new value at its first check, and one
  // more notification only makes it check again.
  const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
  for (const Watching& watching : watchers_) watching.watcher->value_ready();
}

HubCore::Entry HubCore::latest() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return latest_;
}

unsigned HubCore::viewers() const {
  const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
  return static_cast<unsigned>(subscriptions_.size());
}

std::uint64_t HubCore::published() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return latest_.seq;
}

std::uint64_t HubCore::delivered() const {
  const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
  std::uint64_t total = delivered_before_;
  for (const Subscription* subscription : subscriptions_) total += subscription->taken_.load();
  return total;
}

std::uint64_t HubCore::skipped() const {
  const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
  std::uint64_t total = skipped_before_;
  for (const Subscription* subscription : subscriptions_) total += subscription->settled_.load();
  return total;
}

std::chrono::steady_clock::duration HubCore::min_period() const {
  const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
  auto period = std::chrono::steady_clock::duration::max();
  for (const Subscription* subscription : subscriptions_) {
    period = std::min(period, subscription->period_);
  }
  return period;
}

std::vector<SubscriptionStats> HubCore::stats() const {
  const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
  std::vector<SubscriptionStats> all;
  all.reserve(subscriptions_.size());
  for (const Subscription* subscription : subscriptions_) all.push_back(subscription->stats());
  return all;
}

void HubCore::on_change(std::function<void(unsigned)> callback) {
  // Waits for a call under way: once on_change(nullptr) returns, the old callback's owner
  // may go.
  const std::lock_guard<std::mutex> lock(callback_mutex_);
  on_change_ = std::move(callback);
}

void HubCore::add(Subscription* subscription) {
  {
    const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
    subscription->index_ = subscriptions_.size();
    subscriptions_.push_back(subscription);
    const auto watching = std::find_if(watchers_.begin(), watchers_.end(), [&](const Watching& w) {
      return w.watcher == subscription->watcher_;
    });
    if (watching != watchers_.end()) {
      ++watching->subscriptions;
    } else {
      watchers_.push_back(Watching{subscription->watcher_, 1});
    }
  }
  changed();
}

// In constant time (the last subscription takes the leaving one's place): ten thousand
// viewers may leave at once.
void HubCore::remove(Subscription* subscription) {
  {
    const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
    // Its counts are final now (a skip pass() counted included), and stay in the totals.
    delivered_before_ += subscription->taken_.load();
    skipped_before_ += subscription->skipped_.load();
    Subscription* moved = subscriptions_.back();
    subscriptions_[subscription->index_] = moved;
    moved->index_ = subscription->index_;
    subscriptions_.pop_back();
    const auto watching = std::find_if(watchers_.begin(), watchers_.end(), [&](const Watching& w) {
      return w.watcher == subscription->watcher_;
    });
    if (--watching->subscriptions == 0) {
      *watching = watchers_.back();
      watchers_.pop_back();
    }
  }
  changed();
}

// The count is read here, one call at a time, not where it changed: two viewers arriving
// and leaving at once could otherwise deliver their counts in the wrong order, and the
// last call would tell a runner that one viewer watches while none does. So each change
// is followed by a call that reads the count after it, and the last call reads the final
// count.
void HubCore::changed() const {
  const std::lock_guard<std::mutex> lock(callback_mutex_);
  if (on_change_) on_change_(viewers());
}

}  // namespace pushcgi::detail
