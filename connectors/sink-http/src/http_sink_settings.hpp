#pragma once

// The `[http_sink]` table of connector.toml and its `[[http_sink.routes]]`: one route per Danube
// topic, naming the HTTP endpoint its records go to and how. `[http]` is the SDK's own table
// (the /metrics server), hence the name.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "danube/connect/config.hpp"
#include "danube/connect/consumer_config.hpp"

namespace danube::sink_http {

// How the records of a request are laid out in its body.
enum class BodyFormat {
  single,      // one record per request, its payload as the body, unchanged
  json_array,  // a batch of JSON records as one JSON array
  ndjson,      // a batch of JSON records, one compact JSON text per line
};

// Whether the records of one partition must reach the endpoint in their order.
enum class RequestOrdering {
  strict,   // one request at a time per partition: order kept, also through retries
  relaxed,  // up to max_concurrency requests of a partition at once: faster, order not kept
};

// How requests prove who sends them. Secrets come from the environment or a file only.
struct AuthSettings {
  enum class Kind { none, bearer, basic, hmac_sha256 };
  Kind kind = Kind::none;
  std::string bearer_token;  // bearer
  std::string username;      // basic
  std::string password;      // basic
  std::string hmac_secret;   // hmac_sha256
  std::string signature_header = "X-Signature-256";
  std::string signature_prefix = "sha256=";  // before the hex digest
};

// Retries inside the connector, before a record goes back to the runtime as retryable.
struct RetrySettings {
  std::uint32_t attempts = 3;  // retries after the first request; 0: hand back at once
  std::chrono::milliseconds backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  // A Retry-After longer than this is not waited out here: the records go back to the runtime.
  std::chrono::milliseconds max_retry_after{10000};
};

struct Route {
  connect::ConsumerConfig consumer;  // from, subscription, subscription_type, ...
  std::string url;                   // to
  std::string loggable_url;          // `to` without user info and query (either may hold a key)
  std::string method = "POST";
  BodyFormat body_format = BodyFormat::single;
  std::string content_type;
  std::vector<std::pair<std::string, std::string>> headers;  // [http_sink] headers + the route's
  AuthSettings auth;
  std::chrono::milliseconds request_timeout{30000};
  std::chrono::milliseconds connect_timeout{10000};
  std::size_t max_concurrency = 8;
  RequestOrdering ordering = RequestOrdering::strict;
  std::size_t max_batch_records = 100;
  std::size_t max_batch_bytes = 1 << 20;
  bool split_rejected_batches = true;
  bool metadata_headers = true;
  std::optional<std::string> tls_ca_file;
  bool tls_verify = true;
  RetrySettings retry;
};

struct HttpSinkSettings {
  std::vector<Route> routes;
  std::string user_agent;
};

// Looks up an environment variable (injectable for tests).
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Reads and validates `[http_sink]`. Throws ConfigError naming the key for anything invalid,
// unknown or missing (a secret variable that is not set, a secret file that cannot be read).
HttpSinkSettings read_http_sink_settings(const connect::ConnectorConfig& config,
                                         const EnvironmentLookup& environment);

// `url` without its user info (`user:password@`) and query, for logs and error messages.
std::string loggable_url(std::string_view url);

std::string_view to_string(BodyFormat format);
std::string_view to_string(AuthSettings::Kind kind);

}  // namespace danube::sink_http
