#include "pushcgi/hub.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>

namespace pushcgi::detail {

namespace {

void notify(int fd) {
  const std::uint64_t one = 1;
  // Fails only when the counter is full, which still means "readable".
  [[maybe_unused]] const ssize_t n = ::write(fd, &one, sizeof one);
}

}  // namespace

HubCore::Subscription::Subscription(HubCore& hub, std::chrono::steady_clock::duration period,
                                    std::string label)
    : hub_(hub), period_(period), label_(std::move(label)) {
  notify_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (notify_fd_ < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
  hub_.add(this);
}

HubCore::Subscription::~Subscription() {
  hub_.remove(this);
  ::close(notify_fd_);
}

bool HubCore::Subscription::eligible(const Entry& entry) const {
  if (entry.seq <= last_.seq) return false;
  if (last_.seq == 0 || period_.count() == 0) return true;
  // 7/8: a value produced on a matching schedule is never put off by jitter.
  return entry.published - last_.published >= period_ - period_ / 8;
}

void HubCore::Subscription::drain_notification() const {
  std::uint64_t count;
  [[maybe_unused]] const ssize_t n = ::read(notify_fd_, &count, sizeof count);
}

Wake HubCore::Subscription::wait(Response& response,
                                 std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    // A publish between this check and the wait leaves notify_fd_ readable, so it is
    // never missed.
    if (response.time_is_up()) return Wake::time_limit;
    if (eligible(hub_.latest())) return Wake::notified;
    const Wake wake = response.wait_until(deadline, notify_fd_);
    if (wake != Wake::notified) return wake;
    drain_notification();
  }
}

HubCore::Entry HubCore::Subscription::take() {
  const Entry entry = hub_.latest();
  if (entry.seq > last_.seq) {
    if (last_.seq != 0) skipped_ += entry.seq - last_.seq - 1;
    taken_ += 1;
    last_ = entry;
  }
  return entry;
}

HubCore::Entry HubCore::Subscription::last() const {
  return last_;
}

void HubCore::Subscription::mark_skipped() {
  if (taken_ > 0) taken_ -= 1;
  skipped_ += 1;
}

void HubCore::Subscription::skip_stale(std::chrono::steady_clock::duration max_age) {
  const Entry entry = hub_.latest();
  if (entry.seq > last_.seq && std::chrono::steady_clock::now() - entry.published > max_age) {
    last_ = entry;  // seen, not sent: neither taken nor skipped
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
  for (const Subscription* subscription : subscriptions_) notify(subscription->notify_fd_);
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
    subscriptions_.push_back(subscription);
  }
  changed();
}

void HubCore::remove(Subscription* subscription) {
  {
    const std::lock_guard<std::mutex> lock(subscriptions_mutex_);
    subscriptions_.erase(std::find(subscriptions_.begin(), subscriptions_.end(), subscription));
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
