// pushcgi's version, as the Makefile's VERSION says (a build outside it says "0"): for
// --version, pushcgi_build_info in /metrics and the http(s) source's User-Agent.
#pragma once

namespace pushcgi::detail {

const char* version();

}  // namespace pushcgi::detail
