// ps.fcgi: the process list every few seconds, pushed, pulled and as events, for any
// number of viewers. The classic server-push demo, done properly: see ps_service.hpp.
#include <unistd.h>

#include <cstdio>
#include <pushcgi/pushcgi.hpp>
#include <pushcgi/text.hpp>

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
  server.options().add_value(
      "redis-netrc", "FILE",
      "Redis's password for --source and --publish URLs without one: machine HOST login USER "
      "password PASSWORD (keep it readable by this program's user only)",
      [&](std::string_view value) {
        if (value.empty() || ::access(std::string(value).c_str(), R_OK) != 0) {
          return "cannot read " + pushcgi::quote_input(value);
        }
        options.redis_netrc = std::string(value);
        return std::string();
      });
  if (const auto status = server.parse_options(argc, argv)) return *status;
  if (!options.source.empty() &&
      pushcgi::RedisPublisher::same_channel(options.source, options.publish)) {
    std::fprintf(stderr,
                 "ps.fcgi: option --publish: the channel --source reads (it would publish "
                 "what it receives again, forever) (see --help)\n");
    return 2;
  }
  pushcgi::PsService service(options);
  service.add_routes(server);
  return server.serve();
}
