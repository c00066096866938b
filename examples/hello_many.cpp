// hello_push's counter for any number of viewers: one producer publishes it to a hub while
// somebody watches, and an event loop pushes every value to every viewer; no viewer holds a
// thread. Try it as hello_push (see there), with as many clients as you like.
#include <pushcgi/pushcgi.hpp>
#include <string>

int main(int argc, char** argv) {
  pushcgi::Server server("hello_many", "Pushes a counter every second to many viewers.");
  pushcgi::Hub<std::string> counter;
  unsigned count = 0;
  pushcgi::PeriodicProducer producer(counter, [&] {
    counter.publish(std::make_shared<const std::string>(std::to_string(++count) + "\n"));
  });
  server.route("/", [&](const pushcgi::Request& request, pushcgi::Response& response) {
    pushcgi::MultipartStream stream(request, response, "text/plain");
    // Each value a part: the body is the value itself, shared by every viewer. The pace is
    // also the producer's period (it runs as often as its most eager viewer wants).
    stream.pump(stream.part_pump(counter, [](const auto& value) { return value.data; })
                    .pace(std::chrono::seconds(1)));
  });  // returns at once; the viewer's stream goes on in an event loop
  return server.run(argc, argv);
}
