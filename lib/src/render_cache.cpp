#include "pushcgi/render_cache.hpp"

namespace pushcgi {

std::shared_ptr<const std::string> RenderCache::get(
    const std::string& key, const std::function<std::string()>& make) const {
  std::shared_ptr<Slot> slot;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    ++renders_;  // corrected below when the text was there already
    const auto found = slots_.find(key);
    if (found != slots_.end()) {
      slot = found->second;
    } else if (slots_.size() < kMaxVariants) {
      slot = slots_.emplace(key, std::make_shared<Slot>()).first->second;
    }
  }
  if (!slot) return std::make_shared<const std::string>(make());
  bool made = false;
  std::call_once(slot->once, [&] {
    slot->text = std::make_shared<const std::string>(make());
    made = true;
  });
  if (!made) {
    const std::lock_guard<std::mutex> lock(mutex_);
    --renders_;
  }
  return slot->text;
}

std::size_t RenderCache::renders() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return renders_;
}

}  // namespace pushcgi
