#include "base/version.hpp"

#ifndef PUSHCGI_VERSION
#define PUSHCGI_VERSION "0"
#endif

namespace pushcgi::detail {

const char* version() {
  return PUSHCGI_VERSION;
}

}  // namespace pushcgi::detail
