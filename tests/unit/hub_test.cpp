#include "pushcgi/hub.hpp"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "pushcgi/periodic_producer.hpp"
#include "pushcgi/response.hpp"

namespace pushcgi {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A Response whose wait watches a real socket, as a viewer's would.
struct Viewer {
  Viewer() {
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    waiter = std::make_unique<PollWaiter>(PollWaiter::for_connection(fds[0], -1));
    response = std::make_unique<Response>(sink, *waiter);
  }
  ~Viewer() {
    for (int fd : fds) {
      if (fd >= 0) close(fd);
    }
  }
  void leave() {
    close(fds[1]);
    fds[1] = -1;
  }
  int fds[2] = {-1, -1};
  StringSink sink;
  std::unique_ptr<PollWaiter> waiter;
  std::unique_ptr<Response> response;
};

std::shared_ptr<const int> value(int n) {
  return std::make_shared<const int>(n);
}

TEST(Hub, NewestValueWins) {
  Hub<int> hub;
  Hub<int>::Subscription subscription(hub, 0s);
  for (int n = 1; n <= 3; ++n) hub.publish(value(n));
  Hub<int>::Value taken = subscription.take();
  EXPECT_EQ(*taken.data, 3);
  EXPECT_EQ(taken.seq, 3u);
  hub.publish(value(4));
  hub.publish(value(5));
  EXPECT_EQ(*subscription.take().data, 5);
  EXPECT_EQ(subscription.stats().taken, 2u);
  EXPECT_EQ(subscription.stats().skipped, 1u);  // 4 never went out
  EXPECT_EQ(*subscription.last().data, 5);
}

// /metrics's totals: what the viewers took, and what they skipped once it is sure (a value
// an event loop passed while busy may still be taken), so that the counter never goes down.
TEST(Hub, TotalsCountWhatViewersTookAndSkippedAndNeverGoDown) {
  detail::HubCore hub;
  const auto publish = [&](int n) { hub.publish(value(n), std::chrono::system_clock::now()); };
  auto viewer = std::make_unique<detail::HubCore::Subscription>(hub, 0s, "stream");
  publish(1);
  viewer->take(hub.latest());
  EXPECT_EQ(hub.delivered(), 1u);
  publish(2);
  viewer->pass(hub.latest());  // busy: 2 counts as skipped for the viewer, not yet for the hub
  EXPECT_EQ(viewer->stats().skipped, 1u);
  EXPECT_EQ(hub.skipped(), 0u);
  viewer->take(hub.latest());  // taken after all
  EXPECT_EQ(viewer->stats().skipped, 0u);
  EXPECT_EQ(hub.skipped(), 0u);
  EXPECT_EQ(hub.delivered(), 2u);
  publish(3);
  viewer->pass(hub.latest());
  publish(4);
  viewer->pass(hub.latest());
  viewer->take(hub.latest());  // 4: 3 is skipped for good
  EXPECT_EQ(hub.skipped(), 1u);
  EXPECT_EQ(viewer->stats().skipped, 1u);
  publish(5);
  publish(6);
  viewer->take(hub.latest());  // 6: 5 never went out
  EXPECT_EQ(hub.skipped(), 2u);
  publish(7);
  viewer->pass(hub.latest());
  viewer.reset();  // gone with 7 passed: skipped for good
  EXPECT_EQ(hub.skipped(), 3u);
  EXPECT_EQ(hub.delivered(), 4u);
  EXPECT_EQ(hub.published(), 7u);
}

TEST(Hub, EveryViewerGetsTheSameObject) {
  Hub<std::string> hub;
  Hub<std::string>::Subscription a(hub, 0s);
  Hub<std::string>::Subscription b(hub, 0s);
  hub.publish(std::make_shared<const std::string>(40000, 'j'));
  EXPECT_EQ(a.take().data.get(), b.take().data.get());
}

TEST(Hub, WaitReturnsWhenAValueIsPublished) {
  Hub<int> hub;
  Viewer viewer;
  Hub<int>::Subscription subscription(hub, 0s);
  std::thread publisher([&] {
    std::this_thread::sleep_for(20ms);
    hub.publish(value(7));
  });
  EXPECT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::notified);
  EXPECT_EQ(*subscription.take().data, 7);
  publisher.join();
  // Nothing newer: the wait ends on its deadline.
  EXPECT_EQ(viewer.response->wait_for(subscription, Clock::now() + 20ms), Wake::deadline);
}

TEST(Hub, ValuePublishedBeforeTheWaitIsNotMissed) {
  Hub<int> hub;
  Viewer viewer;
  Hub<int>::Subscription subscription(hub, 0s);
  hub.publish(value(1));
  EXPECT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::notified);
  subscription.take();
  hub.publish(value(2));
  EXPECT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::notified);
}

TEST(Hub, ViewerLeavingEndsTheWait) {
  Hub<int> hub;
  Viewer viewer;
  Hub<int>::Subscription subscription(hub, 0s);
  viewer.leave();
  EXPECT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::viewer_left);
}

TEST(Hub, PeriodSkipsValuesThatComeTooSoon) {
  Hub<int> hub;
  Viewer viewer;
  Hub<int>::Subscription subscription(hub, 200ms);
  hub.publish(value(1));
  ASSERT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::notified);
  subscription.take();
  hub.publish(value(2));  // right after: not due for this viewer yet
  EXPECT_EQ(viewer.response->wait_for(subscription, Clock::now() + 50ms), Wake::deadline);
  std::this_thread::sleep_for(200ms);
  hub.publish(value(3));
  ASSERT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::notified);
  EXPECT_EQ(*subscription.take().data, 3);
  EXPECT_EQ(subscription.stats().skipped, 1u);
}

TEST(Hub, CountsViewersAndTellsWhenTheyChange) {
  Hub<int> hub;
  std::vector<unsigned> changes;
  hub.on_change([&](unsigned viewers) { changes.push_back(viewers); });
  {
    Hub<int>::Subscription a(hub, 5s, "push");
    Hub<int>::Subscription b(hub, 1s, "events");
    EXPECT_EQ(hub.viewers(), 2u);
    EXPECT_EQ(hub.min_period(), Clock::duration(1s));
    ASSERT_EQ(hub.stats().size(), 2u);
    EXPECT_EQ(hub.stats()[0].label, "push");
  }
  EXPECT_EQ(hub.viewers(), 0u);
  EXPECT_EQ(hub.min_period(), Clock::duration::max());
  EXPECT_EQ(changes, (std::vector<unsigned>{1, 2, 1, 0}));
}

// What SourceRunner does with the count: start the camera above zero, stop it at zero. After
// viewers came and went at the same moment, the last callback must have told it the real
// count, in both directions (a camera left running for nobody, or stopped under a viewer).
TEST(Hub, LastChangeCallbackSeesTheRealCountWhenViewersComeAndGoAtOnce) {
  constexpr int kRounds = 1000;
  constexpr int kThreads = 3;
  Hub<int> hub;
  std::mutex belief_mutex;
  unsigned belief = 0;  // the runner's idea of how many watch
  hub.on_change([&](unsigned viewers) {
    std::this_thread::sleep_for(10us);  // a callback that waits for its runner's lock
    const std::lock_guard<std::mutex> lock(belief_mutex);
    belief = viewers;
  });
  for (int round = 0; round < kRounds; ++round) {
    std::atomic<int> ready{0};
    std::unique_ptr<Hub<int>::Subscription> stays;  // every other round one viewer stays
    std::vector<std::thread> threads;
    for (int i = 0; i < kThreads; ++i) {
      threads.emplace_back([&, i] {
        ++ready;
        while (ready < kThreads) std::this_thread::yield();  // all at once
        auto subscription = std::make_unique<Hub<int>::Subscription>(hub, 0s);
        if (i == 0 && round % 2 == 1) stays = std::move(subscription);
      });
    }
    for (std::thread& thread : threads) thread.join();
    {
      const std::lock_guard<std::mutex> lock(belief_mutex);
      ASSERT_EQ(belief, hub.viewers()) << "round " << round;
    }
    stays.reset();
  }
  EXPECT_EQ(belief, 0u);
}

TEST(PeriodicProducer, NoWorkWithoutViewers) {
  Hub<int> hub;
  PeriodicProducer producer(hub, [&] { hub.publish(value(0)); });
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(producer.runs(), 0u);
  EXPECT_EQ(hub.published(), 0u);
  {
    Viewer viewer;
    Hub<int>::Subscription subscription(hub, 20ms);
    // The first viewer gets a fresh value at once, not after a period.
    ASSERT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::notified);
    subscription.take();
    ASSERT_EQ(viewer.response->wait_for(subscription, Clock::now() + 10s), Wake::notified);
  }
  // Counted by publish before it notifies; runs() counts a run only once produce returns,
  // which may be after the viewer already took its value.
  const std::uint64_t published = hub.published();
  EXPECT_GE(published, 2u);
  std::this_thread::sleep_for(100ms);         // five periods with nobody watching
  EXPECT_LE(hub.published(), published + 1);  // at most the run that was under way
  EXPECT_LE(producer.runs(), published + 1);
}

TEST(PeriodicProducer, OneValuePerPeriodWhateverTheNumberOfViewers) {
  constexpr int kViewers = 50;
  constexpr auto kPeriod = 100ms;
  Hub<int> hub;
  std::atomic<int> made{0};
  PeriodicProducer producer(hub, [&] { hub.publish(value(++made)); });
  std::vector<std::thread> threads;
  std::vector<SubscriptionStats> stats(kViewers);
  std::atomic<bool> stop{false};
  const auto start = Clock::now();
  for (int i = 0; i < kViewers; ++i) {
    threads.emplace_back([&, i] {
      Viewer viewer;
      Hub<int>::Subscription subscription(hub, kPeriod);
      while (!stop) {
        if (viewer.response->wait_for(subscription, Clock::now() + 50ms) == Wake::notified) {
          subscription.take();
        }
      }
      stats[static_cast<std::size_t>(i)] = subscription.stats();
    });
  }
  std::this_thread::sleep_for(1s);
  stop = true;
  for (std::thread& thread : threads) thread.join();
  const auto elapsed = Clock::now() - start;
  const auto periods = static_cast<std::uint64_t>(elapsed / kPeriod);
  // One value per period for all 50 viewers together, not one per viewer.
  EXPECT_LE(producer.runs(), periods + 2);
  EXPECT_GE(producer.runs(), 3u);
  for (const SubscriptionStats& viewer : stats) {
    EXPECT_GE(viewer.taken + 2, producer.runs());  // every value, bar the last in flight
    EXPECT_EQ(viewer.skipped, 0u);
  }
}

}  // namespace
}  // namespace pushcgi
