// Reads length-framed multipart parts out of raw FastCGI bytes, incrementally, for load
// clients that hold many connections in one epoll loop.
#pragma once

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>

namespace pushcgi::test {

class PartReader {
 public:
  // part(x_timestamp_seconds, body_size) for every complete part.
  using Part = std::function<void(double timestamp, std::size_t size)>;

  void feed(std::string_view bytes, const Part& part);
  std::size_t parts() const { return parts_; }

 private:
  std::string records_;  // undecoded FastCGI bytes
  std::string text_;     // FCGI_STDOUT not yet parsed into parts
  std::size_t parts_ = 0;
};

}  // namespace pushcgi::test
