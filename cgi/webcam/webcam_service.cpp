#include "webcam_service.hpp"

#include "pushcgi/header.hpp"
#include "pushcgi/json.hpp"
#include "pushcgi/text.hpp"
#include "webcam_view.hpp"

namespace pushcgi {

WebcamService::WebcamService(std::vector<std::unique_ptr<Camera>> cameras, std::string wall_panel)
    : cameras_(std::move(cameras)), wall_panel_(std::move(wall_panel)) {}

void WebcamService::add_routes(Server& server) {
  server_ = &server;
  server.add_metrics([this](MetricsText& metrics) { write_metrics(metrics); });
  if (!named()) {
    add_camera_routes(server, *cameras_.front());
    return;
  }
  server.route("/", [this](const Request& q, Response& r) { wall(q, r); });
  server.route("/state", [this](const Request& q, Response& r) { state(q, r); });
  for (const auto& camera : cameras_) add_camera_routes(server, *camera);
  server.route_fallback([this](const Request& q, Response& r) { not_found(q, r); });
}

// Below /NAME for a named camera, at the top for the one camera of a plain --source.
void WebcamService::add_camera_routes(Server& server, Camera& camera) {
  const std::string at = camera.name().empty() ? "" : "/" + camera.name();
  if (!at.empty()) {
    server.route(
        at, [this, &camera](const Request& q, Response& r) { redirect_to_page(camera, q, r); });
  }
  server.route(at + "/", [&camera](const Request& q, Response& r) { camera.page(q, r); });
  server.route(at + "/stream", [&camera](const Request& q, Response& r) { camera.stream(q, r); });
  server.route(at + "/snapshot",
               [&camera](const Request& q, Response& r) { camera.snapshot(q, r); });
  server.route(at + "/state",
               [this, &camera](const Request&, Response& r) { camera_state(camera, r); });
}

void WebcamService::wall(const Request& request, Response& response) const {
  CameraWall wall;
  wall.root = std::string(request.script_name()) + "/";
  // A panel below the program itself would be a page of more streams (a wall in the wall),
  // beyond the six connections the wall counts with over HTTP/1.x.
  if (wall_panel_.rfind(wall.root, 0) != 0) wall.panel = wall_panel_;
  // What the web server says the browser spoke: "HTTP/2.0" from nginx and Apache's
  // mod_http2, "HTTP/3.0" from a server with QUIC.
  const std::string_view protocol = request.param("SERVER_PROTOCOL").value_or("");
  wall.multiplexed = protocol.rfind("HTTP/2", 0) == 0 || protocol.rfind("HTTP/3", 0) == 0;
  for (const auto& camera : cameras_) {
    CameraTile& tile = wall.cameras.emplace_back();
    tile.name = camera->name();
    tile.describe = camera->describe();
    std::tie(tile.width, tile.height) = camera->picture_size();
  }
  ResponseHead head = uncached_head("text/html; charset=utf-8");
  for (const std::string& path : wall_preloads(wall)) head.add_preload(path, "image");
  response.send(std::move(head), render_camera_wall(wall));
}

void WebcamService::state(const Request&, Response& response) const {
  std::vector<JsonObject> cameras;
  for (const auto& camera : cameras_) {
    JsonObject& item = cameras.emplace_back();
    item.string("name", camera->name());
    camera->add_figures(item);
  }
  const JsonObject body = JsonObject()
                              .integer("open_streams", server_->open_streams())
                              .integer("threads", server_->threads())
                              .array("cameras", cameras);
  response.send(uncached_head("application/json"), body.text() + "\n");
}

void WebcamService::write_metrics(MetricsText& metrics) const {
  std::vector<HubFigures> hubs;
  std::vector<NamedSource> sources;
  std::vector<NamedPublisher> publishers;
  for (const auto& camera : cameras_) {
    hubs.push_back(camera->hub_figures());
    sources.push_back(NamedSource{camera->metrics_name(), camera->source_status()});
    if (const RedisPublisher* publisher = camera->publisher()) {
      publishers.push_back(NamedPublisher{camera->metrics_name(), publisher->status()});
    }
  }
  write_hub_metrics(metrics, hubs);
  write_source_metrics(metrics, sources);
  write_publisher_metrics(metrics, publishers);
}

// The shape of the one camera's /state; a named camera's says which and counts its own
// streams (the program's are in /state).
void WebcamService::camera_state(const Camera& camera, Response& response) const {
  JsonObject body;
  if (camera.name().empty()) {
    body.integer("open_streams", server_->open_streams());
  } else {
    body.string("name", camera.name()).integer("open_streams", camera.open_streams());
  }
  camera.add_figures(body);
  body.integer("threads", server_->threads());
  response.send(uncached_head("application/json"), body.text() + "\n");
}

// /NAME to /NAME/, the one address of its page (as the web servers send /webcam to /webcam/).
void WebcamService::redirect_to_page(const Camera& camera, const Request& request,
                                     Response& response) const {
  std::string location = std::string(request.script_name()) + "/" + camera.name() + "/";
  const std::string_view query = request.param("QUERY_STRING").value_or("");
  if (!query.empty()) location += "?" + std::string(query);
  response.send_error(301, "moved to " + location, {{"Location", location}});
}

void WebcamService::not_found(const Request& request, Response& response) const {
  const std::string_view path = request.path();
  const std::string_view name = path.substr(1, path.find('/', 1) - 1);
  for (const auto& camera : cameras_) {
    if (camera->name() == name) {
      response.send_error(404, "no such page: " + quote_input(path));
      return;
    }
  }
  response.send_error(404, "no camera named " + quote_input(name));
}

}  // namespace pushcgi
