// The smallest useful pushcgi program: a counter pushed every second as
// multipart/x-mixed-replace text. Run it behind a web server, or try it by hand:
//   build/bin/hello_push --socket /tmp/hello.sock
//   REQUEST_METHOD=GET cgi-fcgi -bind -connect /tmp/hello.sock
#include <pushcgi/pushcgi.hpp>
#include <string>

int main(int argc, char** argv) {
  pushcgi::Server server("hello_push", "Pushes a counter every second as multipart text.");
  server.route("/", [](const pushcgi::Request& request, pushcgi::Response& response) {
    pushcgi::MultipartStream stream(request, response, "text/plain");
    if (!stream.start()) return;  // a bad ?framing= got its 400, or the viewer left
    auto next = std::chrono::steady_clock::now();
    for (unsigned count = 1; stream.send(std::to_string(count) + "\n"); ++count) {
      next += std::chrono::seconds(1);
      if (response.wait_until(next) != pushcgi::Wake::deadline) break;  // left, or shutdown
    }
  });  // the stream's destructor writes the close delimiter
  return server.run(argc, argv);
}
