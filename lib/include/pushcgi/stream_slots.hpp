// How many streams a program has open, and how many it allows: the count behind /state's
// "open_streams" and the 503 beyond --max-streams.
//
// Two kinds of stream take a slot: a pumped one (run by an event loop: it costs a
// descriptor and a few KB) and a blocking one (its handler loops on its worker thread).
// Blocking streams may hold only some of the workers, so that pages and /state always
// find one free.
#pragma once

#include <atomic>
#include <string>

namespace pushcgi {

class StreamSlots {
 public:
  // reply: a reply that waits in an event loop for its value (Response::reply_later);
  // not an open stream, and with a limit of its own (pages are answered at the stream
  // limit), but it holds a descriptor too.
  enum class Kind { pumped, blocking, reply };

  // A slot taken; given back when destroyed. Empty (false) when the stream was refused.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : slots_(other.slots_), kind_(other.kind_) {
      other.slots_ = nullptr;
    }
    Slot& operator=(Slot&& other) noexcept;
    ~Slot() { release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;

    explicit operator bool() const { return slots_ != nullptr; }
    void release();

   private:
    friend class StreamSlots;
    Slot(StreamSlots* slots, Kind kind) : slots_(slots), kind_(kind) {}
    StreamSlots* slots_ = nullptr;
    Kind kind_ = Kind::pumped;
  };

  // The most replies waiting at once by default: a camera that delivers nothing makes every
  // /snapshot wait 5 s.
  static constexpr unsigned kDefaultMaxReplies = 1024;

  // max_streams: streams (0: no limit); max_blocking: streams that hold a worker;
  // max_replies: replies waiting.
  StreamSlots(unsigned max_streams, unsigned max_blocking,
              unsigned max_replies = kDefaultMaxReplies)
      : max_streams_(max_streams), max_blocking_(max_blocking), max_replies_(max_replies) {}
  StreamSlots(const StreamSlots&) = delete;
  StreamSlots& operator=(const StreamSlots&) = delete;

  // A slot, or an empty one if the limit is reached (the caller answers 503 with
  // refusal()). Two requests racing for the last slot never both get it.
  Slot take(Kind kind);
  // One line for the 503: which limit was reached.
  std::string refusal(Kind kind) const;

  unsigned open() const { return open_.load(); }
  unsigned blocking() const { return blocking_.load(); }
  unsigned replies() const { return replies_.load(); }
  unsigned max_streams() const { return max_streams_; }
  unsigned max_blocking() const { return max_blocking_; }

 private:
  static bool take_one(std::atomic<unsigned>& counter, unsigned limit);

  const unsigned max_streams_;
  const unsigned max_blocking_;
  const unsigned max_replies_;
  std::atomic<unsigned> open_{0};
  std::atomic<unsigned> blocking_{0};
  std::atomic<unsigned> replies_{0};
};

}  // namespace pushcgi
