#pragma once

#include <string>

namespace danube::services {

// What an admin endpoint answers: an HTTP status and a JSON body.
struct AdminReply {
  int status = 200;
  std::string body;
};

// The runtime behind GET /status, POST /pause and POST /resume of the HTTP server
// (HttpServer::attach_admin). The server calls these on its own threads, one request each, and
// has already checked the caller's authorization; an implementation answers within a bounded
// time (it must not wait on the runtime indefinitely).
class AdminHandler {
 public:
  virtual ~AdminHandler() = default;

  // The runtime's state and counts.
  virtual AdminReply status() = 0;
  // Stop taking new work, letting what is in flight finish; answers the state it leads to.
  // Idempotent.
  virtual AdminReply pause() = 0;
  // Take new work again; idempotent.
  virtual AdminReply resume() = 0;
};

}  // namespace danube::services
