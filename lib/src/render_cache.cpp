#include "pushcgi/render_cache.hpp"

namespace pushcgi {

std::shared_ptr<const std::string> RenderCache::get(
    const std::string& key, const std::function<std::string()>& make) const {
  const std::lock_guard<std::mutex> lock(mutex_);
  const auto found = texts_.find(key);
  if (found != texts_.end()) return found->second;
  // Rendering under the lock: the viewers of one value would all wait for the same text.
  auto text = std::make_shared<const std::string>(make());
  ++renders_;
  if (texts_.size() < kMaxVariants) texts_.emplace(key, text);
  return text;
}

std::size_t RenderCache::renders() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  return renders_;
}

}  // namespace pushcgi
