// ps.fcgi: the process list every few seconds, pushed, pulled and as events, for any
// number of viewers. The classic server-push demo, done properly: see ps_service.hpp.
#include <pushcgi/pushcgi.hpp>

#include "ps_service.hpp"

int main(int argc, char** argv) {
  pushcgi::Server server("ps.fcgi", "A live process list: /, /push, /pull, /events, /state.");
  pushcgi::PsOptions options;
  server.options().add_number("interval", "SECONDS",
                              "default seconds between snapshots (1-3600, default 5)",
                              options.interval, 1, 3600);
  server.options().add_flag("show-args",
                            "show command lines (they can hold passwords: off by default)",
                            options.show_args);
  server.options().add_text("proc", "DIR", "read processes from DIR instead of /proc",
                            options.proc_root);
  // Never quoted in an error: the URL may hold a password.
  const auto redis_url = [](std::string_view value, std::string& url) {
    const std::string error = pushcgi::RedisPublisher::check_url(value);
    if (!error.empty()) return "expected a redis:// URL: " + error;
    url = std::string(value);
    return std::string();
  };
  server.options().add_value(
      "source", "URL",
      "show the snapshots another host's ps.fcgi publishes (--publish) instead of this "
      "host's: redis://[USER:PASSWORD@]HOST[:PORT]/CHANNEL or redis+unix:///PATH?channel=C",
      [&](std::string_view value) { return redis_url(value, options.source); });
  server.options().add_value(
      "publish", "URL",
      "publish the snapshots to Redis for other hosts' ps.fcgi --source, while any subscribes",
      [&](std::string_view value) { return redis_url(value, options.publish); });
  if (const auto status = server.parse_options(argc, argv)) return *status;
  pushcgi::PsService service(options);
  service.add_routes(server);
  return server.serve();
}
