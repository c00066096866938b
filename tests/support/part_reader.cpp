#include "support/part_reader.hpp"

#include <cstdlib>

namespace pushcgi::test {

void PartReader::feed(std::string_view bytes, const Part& part) {
  records_.append(bytes);
  std::size_t at = 0;
  while (records_.size() - at >= 8) {
    const auto* h = reinterpret_cast<const unsigned char*>(records_.data() + at);
    const std::size_t length = (std::size_t{h[4]} << 8) | h[5];
    const std::size_t total = 8 + length + h[6];
    if (records_.size() - at < total) break;
    if (h[1] == 6) text_.append(records_, at + 8, length);  // FCGI_STDOUT
    at += total;
  }
  records_.erase(0, at);
  for (;;) {
    const std::size_t stamp = text_.find("X-Timestamp: ");
    if (stamp == std::string::npos) return;
    const std::size_t length_at = text_.rfind("Content-Length: ", stamp);
    const std::size_t head_end = text_.find("\r\n\r\n", stamp);
    if (length_at == std::string::npos || head_end == std::string::npos) return;
    const std::size_t length = std::strtoul(text_.c_str() + length_at + 16, nullptr, 10);
    if (text_.size() < head_end + 4 + length + 2) return;  // the body and the CRLF after it
    part(std::strtod(text_.c_str() + stamp + 13, nullptr), length);
    ++parts_;
    text_.erase(0, head_end + 4 + length);
  }
}

}  // namespace pushcgi::test
