#pragma once

// The webhook connector's own settings: [server], the webhook part of [auth], [rate_limit] and
// the endpoints ([[routes]], or [[endpoints]] of older Rust configs), read from a loaded
// ConnectorConfig. Every problem is a ConfigError naming the file, line and key (exit code 2).
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "crypto.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/config_section.hpp"
#include "danube/connect/environment.hpp"
#include "json_schema.hpp"

namespace danube::webhook {

// The connector's own top-level tables, for ConfigLoader::allow_section / RunOptions::sections.
// [auth] is shared with the SDK, as in the Rust connector's files: the SDK reads its broker
// credentials from it (tls_*_file, token, token_file), the webhook its authentication.
inline constexpr const char* kOwnSections[] = {"server", "rate_limit", "routes", "endpoints",
                                               "auth"};

enum class AuthMode { none, api_key, hmac, jwt };
// How an HMAC signature travels. `github`: "<algorithm>=<hex>" (or the bare hex) over the raw
// body (GitHub's X-Hub-Signature-256, and the Rust connector's format). `stripe`:
// "t=<unix seconds>,v1=<hex>[,v1=...]" over "<t>.<body>", with a timestamp tolerance.
enum class HmacStyle { github, stripe };

struct AuthSettings {
  AuthMode mode = AuthMode::none;
  // The secret itself (API key, HMAC key, JWT HS256 key). Never logged: see describe().
  std::string secret;
  // Where the secret came from ("env WEBHOOK_API_KEY", "file /run/secrets/key"), for logs.
  std::string secret_origin;
  // Lower case. api_key: the key's header; hmac: the signature's header.
  std::string header;
  HmacAlgorithm algorithm = HmacAlgorithm::sha256;
  HmacStyle hmac_style = HmacStyle::github;
  std::chrono::seconds timestamp_tolerance{300};  // stripe style
  // jwt: PEM public key (RS256) from public_key_path; empty = HS256 with `secret`.
  std::string jwt_public_key_pem;
  std::chrono::seconds jwt_leeway{60};
  bool jwt_require_exp = true;

  // "hmac style=stripe algorithm=sha256 header=stripe-signature secret=env X": no secret.
  std::string describe() const;
};

struct RateLimitSettings {
  double requests_per_second = 0;
  double burst_size = 0;
  bool per_ip_enabled = false;
  double per_ip_requests_per_second = 0;
  double per_ip_burst_size = 0;
};

struct RoutingKeyRule {
  enum class Kind { none, header, json_pointer };
  Kind kind = Kind::none;
  std::string name;  // the header (lower case) or the JSON pointer
};

struct EndpointSettings {
  std::string path;   // `from` (`path` in [[endpoints]])
  std::string topic;  // `to` (`danube_topic` in [[endpoints]])
  std::size_t partitions = 0;
  bool reliable_dispatch = false;
  std::optional<RateLimitSettings> rate_limit;  // the route's own, else the global one
  AuthSettings auth;                            // the route's own, else the global one
  bool require_json = false;
  // The topic's [[schemas]] json_schema, when the route validates against it.
  std::shared_ptr<const JsonSchema> schema;
  RoutingKeyRule routing_key;
  std::vector<std::string> attribute_headers;  // lower case
};

struct ServerSettings {
  std::string host = "0.0.0.0";
  std::uint16_t port = 8080;
  std::string tls_cert_path;
  std::string tls_key_path;
  std::chrono::seconds timeout{30};
  std::size_t max_body_size = 1024 * 1024;
  // Our extensions.
  int threads = 64;  // civetweb workers: a reliable request holds one until the broker acks
  std::chrono::milliseconds ack_timeout{10'000};
  std::chrono::milliseconds send_timeout{2'000};
  std::chrono::seconds retry_after{5};
  bool trust_forwarded_headers = true;  // X-Forwarded-For / X-Real-IP name the client
  bool health_endpoints = true;         // GET /health and /ready on the webhook port

  bool tls() const { return !tls_cert_path.empty(); }
};

struct WebhookSettings {
  ServerSettings server;
  std::vector<EndpointSettings> endpoints;
};

// Reads the settings. Without an [auth] table (the Rust connector requires one) there is no
// authentication unless a route sets its own. `environment` supplies SERVER_HOST and
// SERVER_PORT; the secrets named by secret_env come from the process environment.
WebhookSettings parse_webhook_settings(const connect::ConnectorConfig& config,
                                       const connect::Environment& environment);

}  // namespace danube::webhook
