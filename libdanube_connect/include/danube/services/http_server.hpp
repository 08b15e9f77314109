#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "danube/connect/config.hpp"
#include "danube/connect/error.hpp"
#include "danube/services/admin_endpoints.hpp"
#include "danube/services/health_state.hpp"

namespace prometheus {
class Registry;
}

namespace danube::services {

using connect::ConnectorConfig;
using connect::ConnectorError;

struct HttpServerOptions {
  std::string bind_address = "0.0.0.0";
  std::uint16_t port = 9090;  // 0 = pick a free port (see HttpServer::port())
  int worker_threads = 2;
  // Required as `Authorization: Bearer <token>` by POST /pause and /resume when set. Unset,
  // those are accepted from loopback clients only (403 for others).
  std::optional<std::string> admin_token;

  // From [http] and processing.metrics_port. The admin token is not read here: it comes from
  // ConnectorConfig::resolve_admin_token(), which reads the environment or a file.
  static HttpServerOptions from_config(const ConnectorConfig& config);
};

// The connector's HTTP endpoint:
//   GET /metrics  Prometheus text format of the registry
//   GET /health   liveness:  200 {"status":"healthy","live":true,...}, 503 when failed/unhealthy
//                 (a paused connector is live)
//   GET /ready    readiness: 200 when started, connected, not paused and not stopping, else 503
//   GET /status   the attached AdminHandler's status (503 while none is attached)
//   POST /pause, POST /resume   the AdminHandler's pause and resume, authorized as
//                 HttpServerOptions::admin_token says (401 or 403 otherwise)
// Other paths answer 404, other methods 405. Bodies are small JSON objects.
class HttpServer {
 public:
  // Starts serving at once; throws ConnectorError(io) when the address cannot be bound.
  HttpServer(HttpServerOptions options, std::shared_ptr<prometheus::Registry> registry,
             std::shared_ptr<const HealthState> health);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The bound port (the real one when 0 was asked for).
  std::uint16_t port() const;
  // Stops serving and joins the server threads; idempotent, also done by the destructor.
  void stop();

  // Serves /status, /pause and /resume from `handler` from now on.
  void attach_admin(std::shared_ptr<AdminHandler> handler);
  // Stops using the handler: waits until the calls in progress have returned, and answers
  // later admin requests 503. Call it before whatever the handler uses goes away.
  void detach_admin();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// The JSON bodies of /health and /ready, exposed for tests and custom servers.
std::string health_body(const HealthSnapshot& snapshot);

}  // namespace danube::services
