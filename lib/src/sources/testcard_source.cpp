#include <chrono>

#include "sources.hpp"

namespace pushcgi::detail {

TestcardSource::TestcardSource(const SourceOptions& options)
    : ThreadedSource(options), options_(options) {}

std::string TestcardSource::default_description() const {
  return "testcard " + std::to_string(options_.width) + "x" + std::to_string(options_.height) +
         " at " + std::to_string(options_.fps) + " fps";
}

void TestcardSource::run() {
  Testcard card(options_.width, options_.height);
  const auto period = std::chrono::nanoseconds(1000000000LL / options_.fps);
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    // Numbered from 1 across restarts, as SourceRunner numbers frames (X-Frame), so that a
    // number read back from a picture names the same frame.
    emit(card.render(next_number_++, std::chrono::system_clock::now()));
    next += period;
    const auto now = std::chrono::steady_clock::now();
    if (next < now - period) next = now;  // fell behind (a busy machine): do not burst
    if (!wait_until(next)) return;
  }
}

}  // namespace pushcgi::detail
