// Which testcard frame a JPEG is: the testcard draws its frame number into the picture, so a
// viewer of any relay (HTTP, Redis) can read back which of the source's frames it got.
#pragma once

#include <string>

namespace pushcgi::test {

// The testcard's frame number (its low 16 bits) read back from a JPEG's pixels; -1 if the
// bytes do not decode.
long testcard_number(const std::string& jpeg);

// SOI at the start and EOI at the end.
bool whole_jpeg(const std::string& bytes);

}  // namespace pushcgi::test
