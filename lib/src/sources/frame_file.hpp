// Reading a picture file for the file: and dir: sources. Whoever can write into the folder
// chooses what the name stands for: a FIFO named x.jpg would block open() until a writer
// comes (forever, and stop() with it), a device would never end. Only a regular file within
// the frame limit is read; anything else is refused with a one-line reason.
#pragma once

#include <cstddef>
#include <string>

#include "pushcgi/error.hpp"

namespace pushcgi::detail {

// The whole file, or why it was refused: it cannot be opened, is not a regular file, is
// empty, or is larger than max_bytes (refused, not cut short). Never blocks.
Parsed<std::string> read_frame_file(const std::string& path, std::size_t max_bytes);

}  // namespace pushcgi::detail
