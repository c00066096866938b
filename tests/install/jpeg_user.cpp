// make install-check builds this against the installed pushcgi-jpeg.pc: the JPEG checks pull
// libturbojpeg into the link, and the frame sources libcurl, which pushcgi.pc alone does not
// name.
#include <cstdio>
#include <pushcgi/jpeg.hpp>
#include <pushcgi/sources/source.hpp>

int main() {
  const auto made = pushcgi::make_source("http://127.0.0.1:1/x", {});
  std::printf("an http source: %s\n", made ? "made" : made.error().c_str());
  return pushcgi::inspect_jpeg("not a JPEG") || !made ? 1 : 0;
}
