// One event loop: it writes every stream handed to it, without a thread per viewer.
//
// Each stream is a small state machine fed by the loop: a new value of its hub (the hub
// tells the loop once per publish, not each viewer), its descriptor becoming writable or
// hanging up (EPOLLRDHUP: the web server closed the connection because the viewer left),
// and one timer (the idle repeat or heartbeat, the time limit, the deadline of its end).
// Writes never block: a viewer that does not read keeps its unwritten bytes here, skips
// every value meanwhile, and takes the newest once it reads again.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <queue>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "pushcgi/pump.hpp"
#include "pushcgi/stream_metrics.hpp"
#include "pushcgi/stream_slots.hpp"
#include "runtime/outbox.hpp"
#include "runtime/stream_ending.hpp"

namespace pushcgi::detail {

// A stream leaving the thread that started it: the connection, what to send, its slot.
struct Handoff {
  int fd = -1;  // owned by the loop from adopt() on
  Transport transport = Transport::fastcgi;
  std::uint16_t request_id = 0;  // FastCGI: echoed in every record
  std::unique_ptr<Pump> pump;
  StreamSlots::Slot slot;
  StreamTally tally;  // its route's counts
  std::string name;   // "GET /stream", for the line logged at its end
  std::chrono::steady_clock::time_point started;
  std::uint64_t bytes_sent = 0;                        // the head and preamble, already out
  std::chrono::steady_clock::duration max_duration{};  // 0: no time limit
};

class EventLoop {
 public:
  using Clock = std::chrono::steady_clock;

  // How long streams may take to write their end once the program stops.
  static constexpr std::chrono::milliseconds kStopGrace{1000};

  // stop_fd (-1: none): once it is readable the loop stops as stop(kStopGrace) does.
  explicit EventLoop(int stop_fd = -1);
  ~EventLoop();  // stops (without grace) and joins
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs the loop on a thread of its own until stop().
  void start();
  // From any thread: the loop writes the stream from now on (and closes the descriptor at
  // its end). A descriptor it cannot watch is closed at once.
  void adopt(Handoff handoff);
  // From any thread: every stream ends cleanly (its end bytes, then FCGI_END_REQUEST); a
  // stream that has not taken them within grace is closed anyway. The thread then ends.
  // (The stop descriptor ends the streams as well, but the loop goes on taking streams,
  // which end at once, until stop(): call it once nothing hands over any more.)
  void stop(Clock::duration grace);
  void join();
  // Runs the loop in the calling thread until no stream is left (one CGI request).
  void run_until_empty();

  // Streams adopted and not yet ended.
  unsigned streams() const { return streams_.load(); }

 private:
  struct Stream;
  class HubLink;
  struct Timer {
    Clock::time_point when;
    std::uint64_t key;
    bool operator>(const Timer& other) const { return when > other.when; }
  };

  void run(bool until_empty);
  void post_ready(HubLink* link);
  void wake() const;
  void take_inbox();
  void add(Handoff handoff);
  HubLink& link_for(HubCore& hub);
  Stream* find(std::uint64_t key) const;
  void on_io(Stream& stream, std::uint32_t events);
  void on_value(HubLink& link);
  void offer(Stream& stream, const HubCore::Entry& latest);
  bool busy(const Stream& stream) const;
  bool render(Stream& stream, const HubCore::Entry& value);
  void send(Stream& stream, const HubCore::Entry& value);
  void send_idle(Stream& stream);
  void queue_text(Stream& stream, std::string_view text);
  void write_out(Stream& stream);
  void watch_output(Stream& stream, bool watch);
  void end(Stream& stream, const Ending& ending, Clock::time_point end_by);
  void kill(Stream& stream, const Ending& ending);
  void schedule(Stream& stream);
  void run_timers();
  void fire(Stream& stream);
  void reap();
  void close_stream(Stream& stream);
  void begin_stop(Clock::duration grace);
  int timeout_ms() const;

  int epoll_fd_ = -1;
  int wake_fd_ = -1;

  mutable std::mutex inbox_mutex_;  // guards the four below
  std::vector<Handoff> inbox_;
  std::vector<HubLink*> ready_;
  bool stop_requested_ = false;
  bool finish_requested_ = false;  // stop() was called, not only the stop descriptor
  Clock::duration grace_{};

  std::atomic<unsigned> streams_{0};

  // The loop's thread alone touches everything below.
  std::vector<std::unique_ptr<Stream>> slots_;  // by index; null when free
  std::vector<std::uint32_t> free_;
  std::uint32_t generation_ = 0;
  std::vector<std::unique_ptr<HubLink>> links_;
  std::priority_queue<Timer, std::vector<Timer>, std::greater<Timer>> timers_;
  std::vector<std::uint32_t> dead_;
  Parts parts_;             // scratch for rendering
  bool stopping_ = false;   // every stream ends
  bool finishing_ = false;  // and then the loop ends
  Clock::time_point stop_deadline_ = Clock::time_point::max();

  std::thread thread_;
};

}  // namespace pushcgi::detail
