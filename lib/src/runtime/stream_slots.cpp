#include "pushcgi/stream_slots.hpp"

namespace pushcgi {

StreamSlots::Slot& StreamSlots::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    slots_ = other.slots_;
    kind_ = other.kind_;
    other.slots_ = nullptr;
  }
  return *this;
}

void StreamSlots::Slot::release() {
  if (slots_ == nullptr) return;
  if (kind_ == Kind::blocking) slots_->blocking_.fetch_sub(1);
  (kind_ == Kind::reply ? slots_->replies_ : slots_->open_).fetch_sub(1);
  slots_ = nullptr;
}

bool StreamSlots::take_one(std::atomic<unsigned>& counter, unsigned limit) {
  unsigned value = counter.load();
  do {
    if (limit > 0 && value >= limit) return false;
  } while (!counter.compare_exchange_weak(value, value + 1));
  return true;
}

// Replies have a budget of their own, so that pages are still answered when the streams
// have reached their limit; both hold a descriptor each.
StreamSlots::Slot StreamSlots::take(Kind kind) {
  if (kind == Kind::reply) return take_one(replies_, max_replies_) ? Slot(this, kind) : Slot();
  if (kind == Kind::blocking && !take_one(blocking_, max_blocking_)) return {};
  if (!take_one(open_, max_streams_)) {
    if (kind == Kind::blocking) blocking_.fetch_sub(1);
    return {};
  }
  return Slot(this, kind);
}

std::string StreamSlots::refusal(Kind kind) const {
  if (kind == Kind::blocking && max_blocking_ > 0 && blocking_.load() >= max_blocking_) {
    return "too many viewers (" + std::to_string(max_blocking_) + " workers busy with streams)";
  }
  if (kind == Kind::reply) {
    return "too many requests waiting (" + std::to_string(max_replies_) + ")";
  }
  return "too many viewers (" + std::to_string(max_streams_) + " streams open)";
}

}  // namespace pushcgi
