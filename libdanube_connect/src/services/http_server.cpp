#include "danube/services/http_server.hpp"

#include <arpa/inet.h>
#include <civetweb.h>
#include <netinet/in.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cctype>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string_view>
#include <thread>

#include "danube/connect/error.hpp"
#include "danube/services/metrics.hpp"

namespace danube::services {

HttpServerOptions HttpServerOptions::from_config(const ConnectorConfig& config) {
  HttpServerOptions options;
  options.bind_address = config.http.bind_address;
  options.port = config.processing.metrics_port;
  return options;
}

std::string health_body(const HealthSnapshot& snapshot) {
  nlohmann::json body{
      {"status", snapshot.failed ? "failed" : std::string(to_string(snapshot.status))},
      {"live", snapshot.live()},
      {"ready", snapshot.ready()},
      {"started", snapshot.started},
      {"connected", snapshot.connected},
      {"stopping", snapshot.stopping},
      {"paused", snapshot.paused},
      {"connector", snapshot.connector},
      {"uptime_seconds", std::chrono::duration_cast<std::chrono::seconds>(snapshot.uptime).count()},
  };
  body["messages_lost"] = snapshot.messages_lost;
  if (!snapshot.detail.empty()) body["detail"] = snapshot.detail;
  // Replace invalid UTF-8 rather than throw: the detail text may quote external errors.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

namespace http_detail {

// The attached AdminHandler and the calls in progress on it, so that detaching can wait for
// them: whatever the handler uses (an actor system) may go away right after.
class AdminSlot {
 public:
  void attach(std::shared_ptr<AdminHandler> handler) {
    std::lock_guard lock(mutex_);
    handler_ = std::move(handler);
  }
  void detach() {
    std::unique_lock lock(mutex_);
    handler_.reset();
    idle_.wait(lock, [this] { return calls_ == 0; });
  }
  // Runs `call` on the handler; nullopt when none is attached.
  template <class Call>
  std::optional<AdminReply> with_handler(Call call) {
    std::shared_ptr<AdminHandler> handler;
    {
      std::lock_guard lock(mutex_);
      if (!handler_) return std::nullopt;
      handler = handler_;
      ++calls_;
    }
    // The handler is released before the call counts as done: once detach() returns, no
    // server thread holds it (its last owner may be the one to destroy it).
    struct Done {
      AdminSlot& slot;
      std::shared_ptr<AdminHandler>& handler;
      ~Done() {
        handler.reset();
        std::lock_guard lock(slot.mutex_);
        if (--slot.calls_ == 0) slot.idle_.notify_all();
      }
    } done{*this, handler};
    return call(*handler);
  }

 private:
  std::mutex mutex_;
  std::condition_variable idle_;
  std::shared_ptr<AdminHandler> handler_;
  int calls_ = 0;
};

}  // namespace http_detail

struct HttpServer::Impl {
  HttpServerOptions options;
  std::shared_ptr<prometheus::Registry> registry;
  std::shared_ptr<const HealthState> health;
  std::mutex mutex;
  mg_context* context = nullptr;
  std::uint16_t port = 0;
  http_detail::AdminSlot admin;

  static int handle(mg_connection* connection, void* user_data);
  static int log_message(const mg_connection*, const char* message);
  int handle_admin(mg_connection* connection, std::string_view method, std::string_view path);
};

namespace {

constexpr std::string_view kJson = "application/json";

// `extra_headers`: whole header lines, each ending in CRLF.
int respond(mg_connection* connection, bool head_only, int status, std::string_view content_type,
            std::string_view body, std::string_view extra_headers = {}) {
  std::string header =
      "HTTP/1.1 " + std::to_string(status) + " " + mg_get_response_code_text(connection, status) +
      "\r\nContent-Type: " + std::string(content_type) +
      "\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nCache-Control: no-store\r\nConnection: close\r\n" + std::string(extra_headers) + "\r\n";
  mg_write(connection, header.data(), header.size());
  if (!head_only) mg_write(connection, body.data(), body.size());
  return status;
}

std::string listening_spec(const HttpServerOptions& options) {
  const bool ipv6 = options.bind_address.find(':') != std::string::npos;
  const std::string address = ipv6 && !options.bind_address.starts_with("[")
                                  ? "[" + options.bind_address + "]"
                                  : options.bind_address;
  return address + ":" + std::to_string(options.port);
}

// Opens and closes one connection to the listener. civetweb's accept loop only looks at its stop
// flag between polls of up to two seconds; a connection ends the poll at once.
void poke_listener(const std::string& bind_address, std::uint16_t port) {
  const bool ipv6 = bind_address.find(':') != std::string::npos;
  const int fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return;
  if (ipv6) {
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    std::string host = bind_address == "::" || bind_address == "[::]" ? "::1" : bind_address;
    if (host.starts_with("[")) host = host.substr(1, host.size() - 2);
    if (::inet_pton(AF_INET6, host.c_str(), &address.sin6_addr) == 1) {
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    }
  } else {
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    const std::string host = bind_address == "0.0.0.0" ? "127.0.0.1" : bind_address;
    if (::inet_pton(AF_INET, host.c_str(), &address.sin_addr) == 1) {
      ::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    }
  }
  ::close(fd);
}

std::string error_body(std::string_view message) {
  return nlohmann::json{{"error", message}}.dump();
}

bool is_loopback(std::string_view address) {
  // civetweb gives IPv4 peers of an IPv6 listener as IPv4-mapped addresses.
  if (address.starts_with("::ffff:")) address.remove_prefix(7);
  return address.starts_with("127.") || address == "::1";
}

// Compares the token a request presents with the configured one in time that depends on
// neither: both are hashed first, and the digests compared with OpenSSL's constant-time memcmp.
bool token_matches(std::string_view presented, std::string_view expected) {
  const auto digest = [](std::string_view text) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> value{};
    unsigned int length = 0;
    if (EVP_Digest(text.data(), text.size(), value.data(), &length, EVP_sha256(), nullptr) != 1) {
      throw std::runtime_error("SHA-256 failed");
    }
    return value;
  };
  const auto presented_digest = digest(presented);
  const auto expected_digest = digest(expected);
  return CRYPTO_memcmp(presented_digest.data(), expected_digest.data(), presented_digest.size()) ==
         0;
}

// The token of an "Authorization: Bearer <token>" header; nullopt for anything else.
std::optional<std::string_view> bearer_token(const char* header) {
  if (header == nullptr) return std::nullopt;
  std::string_view value = header;
  constexpr std::string_view kScheme = "bearer ";
  if (value.size() < kScheme.size()) return std::nullopt;
  for (std::size_t i = 0; i < kScheme.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(value[i])) != kScheme[i]) return std::nullopt;
  }
  value.remove_prefix(kScheme.size());
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  return value;
}

}  // namespace

// /status, /pause and /resume. GET /status is open like /health and /metrics (it reports the
// same kind of facts); the POSTs change what the connector does, so they need the admin token
// when one is configured, and come from loopback otherwise.
int HttpServer::Impl::handle_admin(mg_connection* connection, std::string_view method,
                                   std::string_view path) {
  const bool is_status = path == "/status";
  const bool head_only = method == "HEAD";
  if (is_status ? (method != "GET" && !head_only) : method != "POST") {
    return respond(connection, false, 405, kJson, error_body("method not allowed"),
                   is_status ? "Allow: GET, HEAD\r\n" : "Allow: POST\r\n");
  }
  if (!is_status) {
    if (options.admin_token) {
      const auto presented = bearer_token(mg_get_header(connection, "Authorization"));
      if (!presented || !token_matches(*presented, *options.admin_token)) {
        spdlog::warn("event=admin_request_refused path={} reason=unauthorized", path);
        return respond(connection, false, 401, kJson,
                       error_body("a valid Authorization: Bearer token is required"),
                       "WWW-Authenticate: Bearer realm=\"danube-connect\"\r\n");
      }
    } else {
      const mg_request_info* request = mg_get_request_info(connection);
      const std::string_view peer = request->remote_addr;
      if (!is_loopback(peer)) {
        spdlog::warn("event=admin_request_refused path={} peer={} reason=no_admin_token", path,
                     peer);
        return respond(connection, false, 403, kJson,
                       error_body("no admin token is configured ([http] admin_token_env or "
                                  "admin_token_file): admin requests are accepted from loopback "
                                  "only"));
      }
    }
  }
  const auto reply = admin.with_handler([&](AdminHandler& handler) {
    if (is_status) return handler.status();
    return path == "/pause" ? handler.pause() : handler.resume();
  });
  if (!reply) {
    return respond(connection, head_only, 503, kJson, error_body("the runtime is not running"));
  }
  if (!is_status) {
    spdlog::info("event=admin_request path={} status={}", path, reply->status);
  }
  return respond(connection, head_only, reply->status, kJson, reply->body);
}

int HttpServer::Impl::handle(mg_connection* connection, void* user_data) {
  auto& self = *static_cast<Impl*>(user_data);
  const mg_request_info* request = mg_get_request_info(connection);
  const std::string_view method = request->request_method ? request->request_method : "";
  const std::string_view path = request->local_uri ? request->local_uri : "";
  const bool head_only = method == "HEAD";

  try {
    if (path == "/status" || path == "/pause" || path == "/resume") {
      return self.handle_admin(connection, method, path);
    }
    if (path != "/metrics" && path != "/health" && path != "/ready") {
      return respond(connection, head_only, 404, kJson, R"({"error":"not found"})");
    }
    if (method != "GET" && !head_only) {
      return respond(connection, false, 405, kJson, R"({"error":"method not allowed"})",
                     "Allow: GET, HEAD\r\n");
    }
    if (path == "/metrics") {
      return respond(connection, head_only, 200, "text/plain; version=0.0.4; charset=utf-8",
                     render_metrics(*self.registry));
    }
    const HealthSnapshot snapshot = self.health->snapshot();
    const bool ok = path == "/health" ? snapshot.live() : snapshot.ready();
    return respond(connection, head_only, ok ? 200 : 503, kJson, health_body(snapshot));
  } catch (const std::exception& e) {
    spdlog::warn("event=http_handler_failed path={} error=\"{}\"", path, e.what());
    return respond(connection, head_only, 500, kJson, R"({"error":"internal error"})");
  }
}

int HttpServer::Impl::log_message(const mg_connection*, const char* message) {
  spdlog::debug("event=http_server_log message=\"{}\"", message ? message : "");
  return 1;  // handled: keep civetweb from printing to stderr itself
}

HttpServer::HttpServer(HttpServerOptions options, std::shared_ptr<prometheus::Registry> registry,
                       std::shared_ptr<const HealthState> health)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = std::move(options);
  impl_->registry = registry ? std::move(registry) : default_metrics_registry();
  impl_->health = health ? std::move(health) : std::make_shared<const HealthState>();

  const std::string ports = listening_spec(impl_->options);
  const std::string threads = std::to_string(std::max(impl_->options.worker_threads, 1));
  // Short timeouts keep a slow or idle client from holding up stop().
  const std::array<const char*, 11> configuration{"listening_ports",
                                                  ports.c_str(),
                                                  "num_threads",
                                                  threads.c_str(),
                                                  "request_timeout_ms",
                                                  "5000",
                                                  "enable_keep_alive",
                                                  "no",
                                                  "linger_timeout_ms",
                                                  "0",
                                                  nullptr};
  mg_callbacks callbacks{};
  callbacks.log_message = &Impl::log_message;
  mg_init_data init{};
  init.callbacks = &callbacks;
  init.user_data = impl_.get();
  init.configuration_options = const_cast<const char**>(configuration.data());
  std::array<char, 256> error_text{};
  unsigned error_code = 0;
  mg_error_data error{};
  error.code = &error_code;
  error.text = error_text.data();
  error.text_buffer_size = error_text.size();

  impl_->context = mg_start2(&init, &error);
  if (!impl_->context) {
    throw ConnectorError::io("cannot start the HTTP server on " + ports + ": " +
                             std::string(error_text.data()));
  }
  mg_set_request_handler(impl_->context, "/", &Impl::handle, impl_.get());

  mg_server_port bound{};
  if (mg_get_server_ports(impl_->context, 1, &bound) >= 1) {
    impl_->port = static_cast<std::uint16_t>(bound.port);
  }
  spdlog::info(
      "event=http_server_started address={} port={} paths=/metrics,/health,/ready,/status,/pause,"
      "/resume admin_token={}",
      impl_->options.bind_address, impl_->port, impl_->options.admin_token ? "set" : "none");
}

HttpServer::~HttpServer() {
  stop();
}

std::uint16_t HttpServer::port() const {
  return impl_->port;
}

void HttpServer::attach_admin(std::shared_ptr<AdminHandler> handler) {
  impl_->admin.attach(std::move(handler));
}

void HttpServer::detach_admin() {
  impl_->admin.detach();
}

void HttpServer::stop() {
  std::lock_guard lock(impl_->mutex);
  if (!impl_->context) return;
  std::atomic<bool> stopped{false};
  std::thread stopper([&] {
    mg_stop(impl_->context);
    stopped = true;
  });
  // Wake the accept loop until mg_stop has returned (bounded: the loop would end on its own
  // within ~2 s anyway).
  for (int attempt = 0; attempt < 400 && !stopped; ++attempt) {
    poke_listener(impl_->options.bind_address, impl_->port);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  stopper.join();
  impl_->context = nullptr;
  spdlog::info("event=http_server_stopped port={}", impl_->port);
}

}  // namespace danube::services
