// Renders each variant of a shared value once, for all viewers: part of a value that many
// viewers share (a snapshot), so the rendering cost per period does not grow with viewers.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

namespace pushcgi {

class RenderCache {
 public:
  static constexpr std::size_t kMaxVariants = 64;

  // The text for key, made by make() the first time it is asked for. Past kMaxVariants
  // (many different query combinations) texts are made each time and not kept.
  std::shared_ptr<const std::string> get(const std::string& key,
                                         const std::function<std::string()>& make) const;
  std::size_t renders() const;

 private:
  mutable std::mutex mutex_;  // guards texts_ and renders_
  mutable std::map<std::string, std::shared_ptr<const std::string>> texts_;
  mutable std::size_t renders_ = 0;
};

}  // namespace pushcgi
