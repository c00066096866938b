// make install-check builds this against the installed pushcgi-jpeg.pc: the JPEG checks pull
// libturbojpeg into the link, which pushcgi.pc alone does not name.
#include <pushcgi/jpeg.hpp>

int main() {
  return pushcgi::inspect_jpeg("not a JPEG") ? 1 : 0;
}
