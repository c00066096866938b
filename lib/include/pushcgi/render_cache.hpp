// Renders each variant of a shared value once, for all viewers: part of a value that many
// viewers share (a snapshot), so the rendering cost per period does not grow with viewers.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace pushcgi {

class RenderCache {
 public:
  static constexpr std::size_t kMaxVariants = 64;

  // The text for key, made by make() the first time it is asked for; viewers asking at the
  // same time wait for that one rendering. make() may itself get() other keys. Past
  // kMaxVariants (many different query combinations) texts are made each time, not kept.
  std::shared_ptr<const std::string> get(const std::string& key,
                                         const std::function<std::string()>& make) const;
  std::size_t renders() const;

 private:
  struct Slot {
    std::once_flag once;
    std::shared_ptr<const std::string> text;
  };

  mutable std::mutex mutex_;  // guards slots_ (not the rendering)
  mutable std::map<std::string, std::shared_ptr<Slot>> slots_;
  mutable std::atomic<std::size_t> renders_{0};
};

}  // namespace pushcgi
