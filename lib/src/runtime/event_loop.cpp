#include "runtime/event_loop.hpp"

#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <system_error>

#include "pushcgi/log.hpp"
#include "runtime/io.hpp"

namespace pushcgi::detail {

namespace {

constexpr std::uint64_t kWakeKey = ~std::uint64_t{0};
constexpr std::uint64_t kStopKey = kWakeKey - 1;
// How long a stream that ends by itself (its time limit) may take to write its end.
constexpr std::chrono::seconds kEndGrace{2};
constexpr int kEventsPerWait = 256;

// Why streams end, beside runtime/stream_ending.hpp's endings.
constexpr Ending kStalled{"stalled: the viewer took nothing for 60 s", StreamEnd::stalled};
constexpr Ending kRenderFailed{"render failed", StreamEnd::failed};
constexpr Ending kEnded{"ended", StreamEnd::program};
// A reply (Pump::once) is no stream: its tally is empty.
constexpr Ending kAnswered{"answered", StreamEnd::program};
constexpr Ending kTimedOut{"timed out", StreamEnd::program};
// The loops' nice value, relative to the workers' (0).
constexpr int kNice = 5;
// Unread bytes below which a viewer is never behind, however small its parts.
constexpr std::size_t kBehindBytes = 8192;
// A viewer behind by its socket's backlog is offered the newest value again this often:
// over TCP and pipes nothing says when the reader took some of it (unix sockets do, with
// EPOLLOUT, which is watched as well).
constexpr std::chrono::milliseconds kRecheck{100};
// A write that has made no progress for this long ends the stream: the web server keeps a
// connection whose viewer stopped reading (Apache until its timeout, an hour on /ps/), and
// the stream would keep its frame and socket buffer meanwhile.
constexpr std::chrono::seconds kStallTimeout{60};

std::uint64_t key_of(std::uint32_t index, std::uint32_t generation) {
  return (std::uint64_t{generation} << 32) | index;
}

}  // namespace

// Tells the loop once per publish of a hub that some of its streams watch; the loop then
// offers the value to each of them.
class EventLoop::HubLink final : public HubWatcher {
 public:
  HubLink(EventLoop& loop, HubCore& hub) : loop_(loop), hub_(hub) {}

  void value_ready() override {
    if (!pending_.exchange(true)) loop_.post_ready(this);
  }

  HubCore& hub() const { return hub_; }
  // Cleared before the loop reads the value, so that a publish after the read posts again.
  void clear_pending() { pending_ = false; }

  std::vector<Stream*> viewers;  // the loop's thread alone

 private:
  EventLoop& loop_;
  HubCore& hub_;
  std::atomic<bool> pending_{false};
};

struct EventLoop::Stream {
  Stream(Handoff handoff, std::uint32_t index_, std::uint32_t generation_)
      : index(index_),
        generation(generation_),
        fd(handoff.fd),
        transport(handoff.transport),
        pump(std::move(handoff.pump)),
        out(handoff.transport, handoff.request_id),
        slot(std::move(handoff.slot)),
        tally(std::move(handoff.tally)),
        name(std::move(handoff.name)),
        started(handoff.started),
        bytes(handoff.bytes_sent) {
    if (handoff.max_duration.count() > 0) ends_at = started + handoff.max_duration;
    if (pump->is_once()) ends_at = started + pump->once_timeout();
  }

  std::uint64_t key() const { return key_of(index, generation); }

  std::uint32_t index;
  std::uint32_t generation;
  int fd;
  Transport transport;
  std::unique_ptr<Pump> pump;
  std::unique_ptr<HubCore::Subscription> subscription;
  HubLink* link = nullptr;
  std::size_t link_index = 0;  // in link->viewers
  Outbox out;
  StreamSlots::Slot slot;
  StreamTally tally;
  std::string name;
  Clock::time_point started;
  Clock::time_point last_write = Clock::now();
  Clock::time_point ends_at = Clock::time_point::max();     // the time limit
  Clock::time_point end_by = Clock::time_point::max();      // ending: closed at this time
  Clock::time_point scheduled = Clock::time_point::max();   // the timer set
  Clock::time_point recheck_at = Clock::time_point::max();  // behind: offer again then
  Clock::time_point stalled_at = Clock::time_point::max();  // a blocked write: ended then
  std::uint64_t bytes;
  std::size_t last_part_bytes = 0;
  std::uint32_t events = 0;  // what epoll watches
  bool answered = false;     // a reply (Pump::once) has its value
  bool unwatched = false;    // not in the epoll set: a regular file
  int file_flags = -1;       // as inherited (CGI: restored before the descriptor is closed)
  bool ending = false;
  bool dead = false;
  const Ending* reason = nullptr;  // why it ended
};

EventLoop::EventLoop(int stop_fd) {
  epoll_fd_ = epoll_create1(EPOLL_CLOEXEC);
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
  wake_fd_ = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake_fd_ < 0) {
    ::close(epoll_fd_);
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  epoll_event event{};
  event.events = EPOLLIN;
  event.data.u64 = kWakeKey;
  epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, wake_fd_, &event);
  if (stop_fd >= 0) {
    // Edge-triggered: it stays readable once the program stops.
    event.events = EPOLLIN | EPOLLET;
    event.data.u64 = kStopKey;
    epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stop_fd, &event);
  }
}

EventLoop::~EventLoop() {
  if (thread_.joinable()) {
    stop(Clock::duration::zero());
    thread_.join();
  }
  for (auto& stream : slots_) {
    if (stream) close_stream(*stream);
  }
  for (Handoff& handoff : inbox_) ::close(handoff.fd);
  ::close(wake_fd_);
  ::close(epoll_fd_);
}

void EventLoop::start() {
  thread_ = std::thread([this] {
    // Pages and /state are answered by the workers while the loops write a burst of parts
    // (a new process list to 10,000 viewers at once): the loops yield the CPU to them.
    // On Linux a thread's nice value is its own (setpriority with its thread id).
    setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kNice);
    run(false);
  });
}

void EventLoop::join() {
  if (thread_.joinable()) thread_.join();
}

void EventLoop::run_until_empty() {
  run(true);
}

void EventLoop::wake() const {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

void EventLoop::adopt(Handoff handoff) {
  streams_.fetch_add(1);
  {
    const std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox_.push_back(std::move(handoff));
  }
  wake();
}

void EventLoop::stop(Clock::duration grace) {
  {
    const std::lock_guard<std::mutex> lock(inbox_mutex_);
    stop_requested_ = true;
    finish_requested_ = true;
    grace_ = grace;
  }
  wake();
}

void EventLoop::post_ready(HubLink* link) {
  {
    const std::lock_guard<std::mutex> lock(inbox_mutex_);
    ready_.push_back(link);
  }
  wake();
}

int EventLoop::timeout_ms() const {
  Clock::time_point next = stop_deadline_;
  if (!timers_.empty()) next = std::min(next, timers_.top().when);
  if (next == Clock::time_point::max()) return -1;
  const auto now = Clock::now();
  if (next <= now) return 0;
  // Rounded up: waking early would only wait again.
  const auto ms = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
  return static_cast<int>(std::min<long long>(ms, 60000));
}

void EventLoop::run(bool until_empty) {
  std::array<epoll_event, kEventsPerWait> events;
  for (;;) {
    const int n = epoll_wait(epoll_fd_, events.data(), kEventsPerWait, timeout_ms());
    if (n < 0 && errno != EINTR) {
      log(LogLevel::error, std::string("event loop: epoll_wait failed: ") + std::strerror(errno));
      break;
    }
    for (int i = 0; i < n; ++i) {
      if (events[i].data.u64 == kWakeKey) {
        std::uint64_t count;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd_, &count, sizeof count);
        take_inbox();
      } else if (events[i].data.u64 == kStopKey) {
        if (!stopping_) begin_stop(kStopGrace);
      } else if (Stream* stream = find(events[i].data.u64)) {
        on_io(*stream, events[i].events);
      }
    }
    run_timers();
    reap();
    // The stop descriptor ends every stream, but the loop stays until stop() too: a worker
    // may still hand over a stream, which then gets its end at once instead of being lost.
    if (stopping_ && finishing_ && (streams_.load() == 0 || Clock::now() >= stop_deadline_)) {
      break;
    }
    if (until_empty && streams_.load() == 0) break;
  }
  // Whatever is left when the grace runs out is closed without its end.
  for (auto& stream : slots_) {
    if (stream) kill(*stream, kShutdown);
  }
  reap();
}

void EventLoop::take_inbox() {
  std::vector<Handoff> inbox;
  std::vector<HubLink*> ready;
  bool stop = false;
  Clock::duration grace{};
  {
    const std::lock_guard<std::mutex> lock(inbox_mutex_);
    inbox.swap(inbox_);
    ready.swap(ready_);
    stop = stop_requested_ && !stopping_;
    finishing_ = finish_requested_;
    grace = grace_;
  }
  if (stop) begin_stop(grace);
  for (Handoff& handoff : inbox) add(std::move(handoff));
  for (HubLink* link : ready) on_value(*link);
}

EventLoop::HubLink& EventLoop::link_for(HubCore& hub) {
  for (const auto& link : links_) {
    if (&link->hub() == &hub) return *link;
  }
  links_.push_back(std::make_unique<HubLink>(*this, hub));
  return *links_.back();
}

EventLoop::Stream* EventLoop::find(std::uint64_t key) const {
  const auto index = static_cast<std::uint32_t>(key & 0xffffffffu);
  if (index >= slots_.size()) return nullptr;
  Stream* stream = slots_[index].get();
  if (stream == nullptr || stream->key() != key || stream->dead) return nullptr;
  return stream;
}

void EventLoop::add(Handoff handoff) {
  const int flags = fcntl(handoff.fd, F_GETFL);
  if (flags < 0 || fcntl(handoff.fd, F_SETFL, flags | O_NONBLOCK) < 0) {
    log(LogLevel::warning, handoff.name + ": stream not started: " + std::strerror(errno));
    ::close(handoff.fd);
    streams_.fetch_sub(1);
    return;
  }
  std::uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<std::uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[index] = std::make_unique<Stream>(std::move(handoff), index, ++generation_);
  Stream& stream = *slots_[index];
  // A CGI's standard output is a description it shares (a terminal, a pipe also used as
  // standard error): O_NONBLOCK is taken back at the end.
  if (stream.transport != Transport::fastcgi) stream.file_flags = flags;
  HubLink& link = link_for(stream.pump->hub());
  stream.subscription = std::make_unique<HubCore::Subscription>(
      stream.pump->hub(), stream.pump->period(), stream.pump->label(), &link);
  if (stream.pump->max_age() != Clock::duration::max()) {
    stream.subscription->skip_stale(stream.pump->max_age());
  }
  stream.link = &link;
  stream.link_index = link.viewers.size();
  link.viewers.push_back(&stream);

  // Edge-triggered: told once when the web server closes the connection. Writability is
  // watched only while a write waits (watch_output): a socket becomes writable each time
  // the web server reads a part, which would wake the loop for nothing once per part and
  // viewer (15 % of the program's CPU at 1,000 viewers).
  stream.events = EPOLLET;
  if (stream.transport == Transport::fastcgi) stream.events |= EPOLLIN | EPOLLRDHUP;
  epoll_event event{};
  event.events = stream.events;
  event.data.u64 = stream.key();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, stream.fd, &event) != 0) {
    if (errno != EPERM) {
      log(LogLevel::warning,
          stream.name + ": cannot watch the connection: " + std::strerror(errno));
      kill(stream, kWriteFailed);
      return;
    }
    // A regular file (a CGI's output redirected to one): never blocks, never hangs up.
    stream.events = 0;
    stream.unwatched = true;
  }
  if (stopping_) {
    end(stream, kShutdown, stop_deadline_);
    return;
  }
  schedule(stream);
  offer(stream, stream.pump->hub().latest());
}

void EventLoop::on_io(Stream& stream, std::uint32_t events) {
  // The request's body was read to its end before the hand-off, and the web servers send
  // nothing after it (docs/FCGI2-NOTES.md): any input, EOF or a hang-up means the viewer
  // is gone. A CGI's standard output shows it as an error or a hang-up.
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) {
    kill(stream, kViewerLeft);
    return;
  }
  if (!(events & EPOLLOUT)) return;
  if (!stream.out.empty()) write_out(stream);
  // Done with the value it was writing, or the socket took some of the backlog: the
  // newest value now, if it is due.
  if (!stream.dead && !stream.ending && stream.out.empty()) {
    offer(stream, stream.pump->hub().latest());
  }
}

void EventLoop::on_value(HubLink& link) {
  link.clear_pending();
  const HubCore::Entry latest = link.hub().latest();
  for (Stream* stream : link.viewers) offer(*stream, latest);
}

// Still writing: bytes of its own wait here, or the socket holds more than half of the
// last part unread, and more than a few small parts (the web server reads from the program
// only as fast as the viewer reads). Such a viewer skips values; it would otherwise fall
// behind by a socket buffer (measured: 113 stale frames after a stall, 20 with this test).
bool EventLoop::busy(const Stream& stream) const {
  if (!stream.out.empty()) return true;
  if (stream.last_part_bytes == 0) return false;
  const std::size_t behind = std::max(stream.last_part_bytes / 2, kBehindBytes);
  return unsent_bytes(stream.fd, stream.transport != Transport::pipe) > behind;
}

void EventLoop::offer(Stream& stream, const HubCore::Entry& latest) {
  if (stream.dead || stream.ending) return;
  if (!stream.subscription->eligible(latest)) {
    if (stream.out.empty()) watch_output(stream, false);  // nothing due: no need to know
    return;
  }
  if (busy(stream)) {
    stream.subscription->pass(latest);
    // Behind by the socket's backlog alone: the newest goes out once the web server takes
    // some of it (told by EPOLLOUT on a unix socket, found by a recheck on the others),
    // rather than at the next publish.
    if (stream.out.empty()) {
      watch_output(stream, true);
      stream.recheck_at = Clock::now() + kRecheck;
      schedule(stream);
    }
    return;
  }
  stream.recheck_at = Clock::time_point::max();
  send(stream, stream.subscription->take(latest));
}

// A render or on_sent that throws (a bug, or out of memory) ends this stream only, as a
// handler that throws gets a 500 for its request only.
bool EventLoop::render(Stream& stream, const HubCore::Entry& value) {
  parts_.clear();
  try {
    return stream.pump->render(value, parts_);
  } catch (const std::exception& error) {
    log(LogLevel::error, stream.name + ": render failed: " + error.what());
  } catch (...) {
    log(LogLevel::error, stream.name + ": render failed");
  }
  kill(stream, kRenderFailed);
  return false;
}

void EventLoop::send(Stream& stream, const HubCore::Entry& value) {
  if (!render(stream, value)) return;
  std::array<std::string_view, Parts::kMax + 1> pieces;
  std::size_t count = 0;
  std::size_t size = 0;
  for (std::size_t i = 0; i < parts_.count; ++i) {
    pieces[count++] = parts_.pieces[i];
    size += parts_.pieces[i].size();
  }
  if (!stream.pump->after_each().empty()) {
    pieces[count++] = stream.pump->after_each();
    size += stream.pump->after_each().size();
  }
  // parts_.text is the next render's: what points into it is copied whatever its size.
  stream.out.queue(pieces.data(), count, std::move(parts_.keep), Parts::kCopyBytes, parts_.text);
  stream.bytes += size;
  stream.tally.sent(size);
  stream.last_part_bytes = size;
  try {
    stream.pump->sent();
  } catch (...) {
    log(LogLevel::error, stream.name + ": on_sent failed");
  }
  if (stream.pump->is_once()) {
    stream.answered = true;
    end(stream, kAnswered, Clock::now() + kEndGrace);  // writes what is queued too
    return;
  }
  write_out(stream);
}

void EventLoop::send_idle(Stream& stream) {
  const auto now = Clock::now();
  if (busy(stream)) {
    stream.last_write = now;  // nothing goes to a viewer still reading
    return;
  }
  if (stream.pump->idle() == Pump::Idle::repeat) {
    // The next repeat is due one idle time from now even if this one sends nothing (no
    // value yet, or the render declines it): the timer must not fire again at once.
    stream.last_write = now;
    const HubCore::Entry last = stream.subscription->last();
    if (last.data) send(stream, last);
    return;
  }
  const std::string_view text = stream.pump->idle_text();
  queue_text(stream, text);
  write_out(stream);
}

// A change of the events watched re-checks the descriptor (epoll_ctl), so a socket that
// became writable between the failed write and this call is reported, not missed.
void EventLoop::watch_output(Stream& stream, bool watch) {
  if (stream.unwatched) return;
  const std::uint32_t events = watch ? stream.events | EPOLLOUT : stream.events & ~EPOLLOUT;
  if (events == stream.events) return;
  stream.events = events;
  epoll_event event{};
  event.events = events;
  event.data.u64 = stream.key();
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, stream.fd, &event) != 0) kill(stream, kWriteFailed);
}

// Bytes of the pump's own (an idle comment, an end), copied when queued.
void EventLoop::queue_text(Stream& stream, std::string_view text) {
  stream.out.queue(&text, 1, nullptr, text.size());
  stream.bytes += text.size();
  stream.tally.sent(text.size());
}

void EventLoop::write_out(Stream& stream) {
  const std::uint64_t before = stream.out.written();
  switch (stream.out.flush(stream.fd)) {
    case Outbox::Flush::done:
      stream.last_write = Clock::now();
      stream.stalled_at = Clock::time_point::max();
      if (stream.ending) {
        kill(stream, *stream.reason);
      } else {
        watch_output(stream, false);
      }
      return;
    case Outbox::Flush::blocked:
      watch_output(stream, true);  // EPOLLOUT tells when to go on
      if (stream.stalled_at == Clock::time_point::max() || stream.out.written() != before) {
        stream.stalled_at = Clock::now() + kStallTimeout;  // from the last progress
        schedule(stream);
      }
      return;
    case Outbox::Flush::closed:
      kill(stream, kClosedByPeer);
      return;
    case Outbox::Flush::failed:
      kill(stream, kWriteFailed);
      return;
  }
}

// A clean end: the end bytes after the part under way, then the end of the request.
void EventLoop::end(Stream& stream, const Ending& ending, Clock::time_point end_by) {
  if (stream.dead || stream.ending) return;
  stream.ending = true;
  stream.reason = &ending;
  stream.end_by = end_by;
  // Counted as open no longer: a viewer that reads its end and asks /state at once sees it
  // gone (the end goes out in the same turn, or is cut at end_by).
  stream.slot.release();
  stream.tally.end(ending.kind);
  // A reply that got no value (timed out, or the program stops): the pump's other answer.
  const std::string_view end =
      stream.pump->is_once() && !stream.answered ? stream.pump->otherwise() : stream.pump->end();
  queue_text(stream, end);
  stream.out.queue_end();
  schedule(stream);
  write_out(stream);
}

void EventLoop::kill(Stream& stream, const Ending& ending) {
  if (stream.dead) return;
  stream.dead = true;
  if (stream.reason == nullptr || !stream.ending) stream.reason = &ending;
  dead_.push_back(stream.index);
}

void EventLoop::schedule(Stream& stream) {
  Clock::time_point due = stream.ending ? stream.end_by : stream.ends_at;
  if (!stream.ending && stream.pump->idle() != Pump::Idle::nothing) {
    due = std::min(due, stream.last_write + stream.pump->idle_after());
  }
  due = std::min({due, stream.recheck_at, stream.stalled_at});
  if (due >= stream.scheduled) return;  // the timer set fires first and reschedules
  stream.scheduled = due;
  timers_.push(Timer{due, stream.key()});
}

void EventLoop::run_timers() {
  const auto now = Clock::now();
  while (!timers_.empty() && timers_.top().when <= now) {
    const Timer timer = timers_.top();
    timers_.pop();
    Stream* stream = find(timer.key);
    if (stream == nullptr || stream->scheduled != timer.when) continue;  // gone or replaced
    stream->scheduled = Clock::time_point::max();
    fire(*stream);
    if (!stream->dead) schedule(*stream);
  }
}

void EventLoop::fire(Stream& stream) {
  const auto now = Clock::now();
  if (stream.ending) {
    if (now >= stream.end_by) kill(stream, *stream.reason);  // it did not take its end
    return;
  }
  if (now >= stream.stalled_at) {
    kill(stream, kStalled);
    return;
  }
  if (now >= stream.ends_at) {
    end(stream, stream.pump->is_once() ? kTimedOut : kTimeLimit, now + kEndGrace);
    return;
  }
  if (now >= stream.recheck_at) {
    stream.recheck_at = Clock::time_point::max();
    offer(stream, stream.pump->hub().latest());  // re-arms it while still behind
    if (stream.dead) return;
  }
  if (stream.pump->idle() != Pump::Idle::nothing &&
      now >= stream.last_write + stream.pump->idle_after()) {
    send_idle(stream);
  }
}

void EventLoop::reap() {
  for (const std::uint32_t index : dead_) {
    if (slots_[index]) close_stream(*slots_[index]);
    slots_[index].reset();
    free_.push_back(index);
    streams_.fetch_sub(1);
  }
  dead_.clear();
}

void EventLoop::close_stream(Stream& stream) {
  const auto elapsed = Clock::now() - stream.started;
  char seconds[32];
  std::snprintf(seconds, sizeof seconds, "%.3f", std::chrono::duration<double>(elapsed).count());
  // A reply is no stream: one line only when it did not go out as answered.
  const Ending& ending = stream.reason != nullptr ? *stream.reason : kEnded;
  const char* reason = ending.text;
  stream.tally.end(ending.kind);
  if (!stream.pump->is_once()) {
    log(LogLevel::info, stream.name + ": stream ended after " + seconds + " s, " +
                            std::to_string(stream.bytes) + " bytes: " + reason);
  } else if (&ending != &kAnswered) {
    log(LogLevel::info, stream.name + ": reply not sent after " + seconds + " s: " + reason);
  }
  if (stream.link != nullptr) {
    std::vector<Stream*>& viewers = stream.link->viewers;
    Stream* moved = viewers.back();
    viewers[stream.link_index] = moved;
    moved->link_index = stream.link_index;
    viewers.pop_back();
    stream.link = nullptr;
  }
  stream.subscription.reset();
  if (stream.file_flags >= 0) fcntl(stream.fd, F_SETFL, stream.file_flags);
  ::close(stream.fd);  // also takes it out of the epoll set
  stream.slot.release();
}

void EventLoop::begin_stop(Clock::duration grace) {
  stopping_ = true;
  stop_deadline_ = Clock::now() + grace;
  for (auto& stream : slots_) {
    if (stream) end(*stream, kShutdown, stop_deadline_);
  }
}

}  // namespace pushcgi::detail
