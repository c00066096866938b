#include "pushcgi/render_cache.hpp"

namespace pushcgi {

std::shared_ptr<const std::string> RenderCache::get(
    const std::string& key, const std::function<std::string()>& make) const {
  std::shared_ptr<Slot> slot;
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    const auto found = slots_.find(key);
    if (found != slots_.end()) {
      slot = found->second;
    } else if (slots_.size() < kMaxVariants) {
      slot = slots_.emplace(key, std::make_shared<Slot>()).first->second;
    }
  }
  const auto render = [&] {
    ++renders_;
    return std::make_shared<const std::string>(make());
  };
  if (!slot) return render();
  std::call_once(slot->once, [&] { slot->text = render(); });
  return slot->text;
}

std::size_t RenderCache::renders() const {
  return renders_.load();
}

}  // namespace pushcgi
