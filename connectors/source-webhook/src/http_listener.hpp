#pragma once

// The webhook listener: civetweb on [server] host:port, its worker threads handing every request
// to the RequestHandler. Separate from the runtime's own /metrics /health /ready server
// ([processing] metrics_port).
//
// TLS (tls_cert_path / tls_key_path) goes through civetweb, which loads libssl at run time.
// Debian 12's civetweb 1.15 cannot (it looks up a function OpenSSL 3 removed), so there a
// configuration asking for TLS is refused with that reason; a civetweb that can load OpenSSL
// serves it with the given certificate chain and key.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "danube/connect/logger.hpp"
#include "request_handler.hpp"
#include "webhook_config.hpp"

struct mg_context;
struct mg_connection;

namespace danube::webhook {

class HttpListener {
 public:
  // Starts listening. Throws ConnectorError: io when the address cannot be bound,
  // configuration when TLS is asked for and cannot be set up. `handler` and `logger` must
  // outlive the listener.
  HttpListener(const ServerSettings& settings, RequestHandler& handler, connect::Logger& logger);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // The bound port (the chosen one when [server] port is 0).
  std::uint16_t port() const { return port_; }
  // Waits (up to `grace`) for the requests in progress to be answered, then stops the server;
  // idempotent. Whoever holds requests waiting (for an acknowledgement) must release them
  // first: once civetweb stops, it no longer writes answers.
  void stop(std::chrono::milliseconds grace = std::chrono::seconds(2));

 private:
  static int handle(mg_connection* connection, void* self);
  static int init_tls(void* ssl_context, void* self);
  static int log_message(const mg_connection* connection, const char* message);

  ServerSettings settings_;
  RequestHandler& handler_;
  connect::Logger& logger_;
  std::mutex stop_mutex_;
  std::mutex active_mutex_;
  std::condition_variable idle_;
  int active_requests_ = 0;  // guarded by active_mutex_
  mg_context* context_ = nullptr;
  std::uint16_t port_ = 0;
  std::string tls_error_;  // why init_tls failed, for the startup error
};

}  // namespace danube::webhook
