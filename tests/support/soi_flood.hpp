// What a hostile camera program can write (or an IP camera relayed through exec:): one SOI,
// then APP1 segments whose payload is FF D8 over and over, so that every other byte looks
// like the start of a frame. Header-only, so that the helper programs can use it too.
#pragma once

#include <cstddef>
#include <string>

namespace pushcgi::test {

// One SOI and `segments` APP1 segments of 64 KiB each (65,536 bytes with the marker).
inline std::string soi_flood(std::size_t segments) {
  std::string bytes = "\xFF\xD8";
  bytes.reserve(2 + segments * 65536);
  for (std::size_t k = 0; k < segments; ++k) {
    bytes += "\xFF\xE1\xFF\xFE";  // length 65534: its own two bytes and 32766 times FF D8
    for (int j = 0; j < 32766; ++j) bytes += "\xFF\xD8";
  }
  return bytes;
}

}  // namespace pushcgi::test
