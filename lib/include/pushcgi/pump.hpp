// What a stream sends, declared once by a route and run for every viewer by an event loop.
//
// A route that serves many viewers does not loop in its handler: it says what a viewer
// gets (on a new value of a hub, the pieces to send; when idle, a repeat, some text or
// nothing; its pace) and hands the stream to the runtime (MultipartStream::pump,
// EventStream::pump, Response::pump). The handler returns at once and its worker thread
// serves the next request; an event loop writes the stream from then on, without a thread
// per viewer:
//  * newest value wins: a viewer still writing a value when newer ones arrive finishes it,
//    then takes the newest (those in between count as skipped); nothing queues per viewer;
//  * pieces are written from the value's own memory (no copy of a frame per viewer); only
//    pieces of up to Parts::kCopyBytes are copied;
//  * a viewer leaving is noticed at once, also while the stream is idle;
//  * the end (a time limit, the program stopping) writes end bytes (a close delimiter).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "pushcgi/hub.hpp"

namespace pushcgi {

// The bytes one value turns into for one viewer: up to kMax pieces, written in order.
// Pieces point into memory that `keep` holds (usually the value itself), into the pump
// (which lives as long as the stream), or into `text` (this viewer's own bytes, such as
// a part head with this value's length; copied when queued, whatever their size).
struct Parts {
  static constexpr std::size_t kMax = 4;
  // Pieces up to this size are copied when queued, larger ones are written from `keep`.
  static constexpr std::size_t kCopyBytes = 512;

  std::shared_ptr<const void> keep;
  std::array<std::string_view, kMax> pieces{};
  std::size_t count = 0;
  std::string text;

  void add(std::string_view piece) { pieces.at(count++) = piece; }
  void clear() {
    keep.reset();
    count = 0;
    text.clear();
  }
};

class Pump {
 public:
  using Clock = std::chrono::steady_clock;
  using Entry = detail::HubCore::Entry;
  // Fills parts for one value; false: nothing to send for it (say why in the log). Runs on
  // an event loop's thread for each viewer that takes a value: it must not block, and what
  // it sends should be made once per value (RenderCache), not once per viewer.
  using Render = std::function<bool(const Entry& value, Parts& parts)>;
  enum class Idle { nothing, repeat, text };
  // The shortest idle time (a shorter one would keep the loop busy).
  static constexpr Clock::duration kMinIdle = std::chrono::milliseconds(10);

  // The values of hub, each turned into parts by render(const Hub<T>::Value&, Parts&).
  template <typename T, typename F>
  Pump(Hub<T>& hub, F render)
      : hub_(&hub.core()), render_([render = std::move(render)](const Entry& entry, Parts& parts) {
          return render(Hub<T>::convert(entry), parts);
        }) {}

  // At most one value per period (the viewer's ?fps= or ?interval=); 0: every value. A
  // value that comes too soon is skipped, the next one due goes out. The period is also
  // what the viewer asks of a PeriodicProducer (Hub::min_period): a pump without a pace
  // has its producer run without pause.
  Pump& pace(Clock::duration period) {
    period_ = period;
    return *this;
  }
  // After `after` with nothing sent, the last value again: a browser keeps the picture
  // and notices a closed tab (Firefox only when bytes arrive).
  Pump& repeat_when_idle(Clock::duration after) {
    idle_ = Idle::repeat;
    idle_after_ = std::max(after, kMinIdle);
    return *this;
  }
  // After `after` with nothing sent, these bytes (an event stream's comment line).
  Pump& send_when_idle(Clock::duration after, std::string text) {
    idle_ = Idle::text;
    idle_after_ = std::max(after, kMinIdle);
    idle_text_ = std::move(text);
    return *this;
  }
  // A value published more than max_age before the stream started is not sent: the
  // stream waits for a fresh one (its producer was idle).
  Pump& skip_older_than(Clock::duration max_age) {
    max_age_ = max_age;
    return *this;
  }
  // Named so in per-viewer figures (SubscriptionStats::label).
  Pump& label(std::string label) {
    label_ = std::move(label);
    return *this;
  }
  // Called on the loop's thread each time a value went out to a viewer.
  Pump& on_sent(std::function<void()> sent) {
    on_sent_ = std::move(sent);
    return *this;
  }
  // Written after every value's parts (a multipart delimiter; set by MultipartStream).
  Pump& after_each(std::string bytes) {
    after_each_ = std::move(bytes);
    return *this;
  }
  // Written when the stream ends cleanly (a close delimiter; set by MultipartStream).
  Pump& end_with(std::string bytes) {
    end_ = std::move(bytes);
    return *this;
  }
  // One value, then the end: the render gives a whole response for the first value due
  // (Response::reply_later), and after timeout without one, `otherwise` goes out instead.
  Pump& once(Clock::duration timeout, std::string otherwise) {
    once_ = true;
    once_timeout_ = timeout;
    otherwise_ = std::move(otherwise);
    return *this;
  }

  detail::HubCore& hub() const { return *hub_; }
  bool render(const Entry& value, Parts& parts) const { return render_(value, parts); }
  Clock::duration period() const { return period_; }
  Idle idle() const { return idle_; }
  Clock::duration idle_after() const { return idle_after_; }
  const std::string& idle_text() const { return idle_text_; }
  Clock::duration max_age() const { return max_age_; }
  const std::string& label() const { return label_; }
  void sent() const {
    if (on_sent_) on_sent_();
  }
  const std::string& after_each() const { return after_each_; }
  const std::string& end() const { return end_; }
  bool is_once() const { return once_; }
  Clock::duration once_timeout() const { return once_timeout_; }
  const std::string& otherwise() const { return otherwise_; }

 private:
  detail::HubCore* hub_;
  Render render_;
  Clock::duration period_{};
  Idle idle_ = Idle::nothing;
  Clock::duration idle_after_{};
  std::string idle_text_;
  Clock::duration max_age_ = Clock::duration::max();
  std::string label_;
  std::function<void()> on_sent_;
  std::string after_each_;
  std::string end_;
  bool once_ = false;
  Clock::duration once_timeout_{};
  std::string otherwise_;
};

}  // namespace pushcgi
