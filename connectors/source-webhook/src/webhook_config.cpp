#include "webhook_config.hpp"

#include <charconv>
#include <fstream>
#include <map>
#include <sstream>

#include "danube/connect/config_error.hpp"
#include "secrets.hpp"

namespace danube::webhook {
namespace {

using connect::ConfigError;
using connect::ConfigSection;

std::string lower(std::string_view text) {
  std::string result(text);
  for (auto& c : result)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return result;
}

std::string read_file(const ConfigSection& section, std::string_view key, const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) section.fail(key, "cannot read '" + path + "'");
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

ServerSettings parse_server(const ConfigSection& section, const connect::Environment& environment) {
  section.reject_unknown_keys({"host", "port", "tls_cert_path", "tls_key_path", "timeout_seconds",
                               "max_body_size", "threads", "ack_timeout_ms", "send_timeout_ms",
                               "retry_after_seconds", "trust_forwarded_headers",
                               "health_endpoints"});
  ServerSettings server;
  server.host = section.get_string("host", server.host);
  server.port = static_cast<std::uint16_t>(section.get_integer("port", server.port, 0, 65535));
  server.tls_cert_path = section.get_string("tls_cert_path", "");
  server.tls_key_path = section.get_string("tls_key_path", "");
  if (server.tls_cert_path.empty() != server.tls_key_path.empty()) {
    section.fail(server.tls_cert_path.empty() ? "tls_cert_path" : "tls_key_path",
                 "tls_cert_path and tls_key_path go together");
  }
  for (const char* key : {"tls_cert_path", "tls_key_path"}) {
    const auto path = section.get_string(key);
    if (path && !std::ifstream(*path)) section.fail(key, "cannot read '" + *path + "'");
  }
  server.timeout = std::chrono::seconds(section.get_integer("timeout_seconds", 30, 1, 3600));
  server.max_body_size = static_cast<std::size_t>(
      section.get_integer("max_body_size", 1024 * 1024, 1, std::int64_t{1} << 30));
  server.threads = static_cast<int>(section.get_integer("threads", server.threads, 1, 1024));
  server.ack_timeout =
      std::chrono::milliseconds(section.get_integer("ack_timeout_ms", 10'000, 1, 3'600'000));
  server.send_timeout =
      std::chrono::milliseconds(section.get_integer("send_timeout_ms", 2'000, 0, 3'600'000));
  server.retry_after =
      std::chrono::seconds(section.get_integer("retry_after_seconds", 5, 1, 86'400));
  server.trust_forwarded_headers = section.get_bool("trust_forwarded_headers", true);
  server.health_endpoints = section.get_bool("health_endpoints", true);

  // The Rust connector's own overrides, applied after the file like the SDK's variables.
  if (const auto host = environment.get("SERVER_HOST")) {
    if (host->empty()) throw ConfigError("SERVER_HOST", "[server] host", "must not be empty");
    server.host = *host;
  }
  if (const auto port = environment.get("SERVER_PORT")) {
    unsigned value = 0;
    const auto [end, error] = std::from_chars(port->data(), port->data() + port->size(), value);
    if (port->empty() || error != std::errc() || end != port->data() + port->size() ||
        value > 65535) {
      throw ConfigError("SERVER_PORT", "[server] port",
                        "expected a port number 0..65535 (got \"" + *port + "\")");
    }
    server.port = static_cast<std::uint16_t>(value);
  }
  return server;
}

RateLimitSettings parse_rate_limit(const ConfigSection& section) {
  section.reject_unknown_keys({"requests_per_second", "burst_size", "per_ip_enabled",
                               "per_ip_requests_per_second", "per_ip_burst_size"});
  auto positive = [&](std::string_view key, std::optional<double> fallback) {
    const double value = fallback ? section.get_float(key, *fallback) : section.require_float(key);
    if (!(value > 0)) section.fail(key, "must be > 0 (got " + std::to_string(value) + ")");
    return value;
  };
  RateLimitSettings limits;
  limits.requests_per_second = positive("requests_per_second", std::nullopt);
  limits.burst_size = positive("burst_size", std::nullopt);
  limits.per_ip_enabled = section.get_bool("per_ip_enabled", false);
  limits.per_ip_requests_per_second =
      positive("per_ip_requests_per_second", limits.requests_per_second);
  limits.per_ip_burst_size =
      positive("per_ip_burst_size", std::max(1.0, limits.per_ip_requests_per_second));
  return limits;
}

// The keys of [auth] that belong to the webhook (the rest are the SDK's broker credentials).
const std::vector<std::string> kWebhookAuthKeys = {"type",
                                                   "secret_env",
                                                   "secret_file",
                                                   "header",
                                                   "algorithm",
                                                   "public_key_path",
                                                   "hmac_style",
                                                   "timestamp_tolerance_seconds",
                                                   "jwt_leeway_seconds",
                                                   "jwt_require_exp"};
const std::vector<std::string> kSdkAuthKeys = {"tls_ca_file", "tls_cert_file", "tls_key_file",
                                               "token", "token_file"};

std::string resolve_secret(const ConfigSection& section, std::string& origin) {
  const auto variable = section.get_string("secret_env");
  const bool file = section.contains("secret_file");
  if (variable && file) section.fail("secret_file", "set secret_env or secret_file, not both");
  if (variable) {
    const auto value = connectors::environment_value(*variable);
    if (!value || value->empty()) {
      section.fail("secret_env", "environment variable " + *variable + " is not set");
    }
    origin = "env " + *variable;
    return *value;
  }
  if (auto secret = connectors::secret_from_file(section, "secret_file")) {
    origin = "file " + *section.get_string("secret_file");
    return std::move(*secret);
  }
  section.fail("secret_env", "the secret is required: set secret_env or secret_file");
}

AuthSettings parse_auth(const ConfigSection& section, bool shared_with_sdk) {
  std::vector<std::string> known = kWebhookAuthKeys;
  if (shared_with_sdk) known.insert(known.end(), kSdkAuthKeys.begin(), kSdkAuthKeys.end());
  section.reject_unknown_keys(known);
  AuthSettings auth;
  const std::string type = lower(section.get_string("type", "none"));
  if (type == "none") {
    auth.mode = AuthMode::none;
  } else if (type == "apikey" || type == "api_key") {
    auth.mode = AuthMode::api_key;
  } else if (type == "hmac") {
    auth.mode = AuthMode::hmac;
  } else if (type == "jwt") {
    auth.mode = AuthMode::jwt;
  } else {
    section.fail("type", "must be none, apikey, hmac or jwt (got \"" + type + "\")");
  }
  if (auth.mode == AuthMode::none) return auth;

  const auto header = section.get_string("header");
  if (auth.mode == AuthMode::api_key) {
    auth.secret = resolve_secret(section, auth.secret_origin);
    auth.header = lower(header.value_or("x-api-key"));
  } else if (auth.mode == AuthMode::hmac) {
    auth.secret = resolve_secret(section, auth.secret_origin);
    const std::string style = lower(section.get_string(
        "hmac_style", header && lower(*header) == "stripe-signature" ? "stripe" : "github"));
    if (style == "stripe") {
      auth.hmac_style = HmacStyle::stripe;
    } else if (style == "github") {
      auth.hmac_style = HmacStyle::github;
    } else {
      section.fail("hmac_style", "must be github or stripe (got \"" + style + "\")");
    }
    auth.header = lower(header.value_or(
        auth.hmac_style == HmacStyle::stripe ? "stripe-signature" : "x-hub-signature-256"));
    const std::string algorithm = lower(section.get_string("algorithm", "sha256"));
    if (algorithm == "sha256") {
      auth.algorithm = HmacAlgorithm::sha256;
    } else if (algorithm == "sha512") {
      auth.algorithm = HmacAlgorithm::sha512;
    } else {
      section.fail("algorithm", "must be sha256 or sha512 (got \"" + algorithm + "\")");
    }
    if (auth.hmac_style == HmacStyle::stripe && auth.algorithm != HmacAlgorithm::sha256) {
      section.fail("algorithm", "Stripe signatures are sha256");
    }
    auth.timestamp_tolerance =
        std::chrono::seconds(section.get_integer("timestamp_tolerance_seconds", 300, 1, 604'800));
  } else {
    if (const auto key_path = section.get_string("public_key_path")) {
      if (section.contains("secret_env") || section.contains("secret_file")) {
        section.fail("public_key_path",
                     "set public_key_path (RS256) or a secret (HS256), not both");
      }
      auth.jwt_public_key_pem = read_file(section, "public_key_path", *key_path);
      auth.secret_origin = "public key " + *key_path;
      try {
        Rs256Verifier check(auth.jwt_public_key_pem);
      } catch (const std::invalid_argument& problem) {
        section.fail("public_key_path", problem.what());
      }
    } else {
      auth.secret = resolve_secret(section, auth.secret_origin);
    }
    auth.jwt_leeway = std::chrono::seconds(section.get_integer("jwt_leeway_seconds", 60, 0, 3600));
    auth.jwt_require_exp = section.get_bool("jwt_require_exp", true);
  }
  return auth;
}

RoutingKeyRule parse_routing_key(const ConfigSection& section) {
  section.reject_unknown_keys({"header", "json_pointer"});
  const auto header = section.get_string("header");
  const auto pointer = section.get_string("json_pointer");
  if (header.has_value() == pointer.has_value()) {
    section.fail("header", "set exactly one of header or json_pointer");
  }
  if (header) return {RoutingKeyRule::Kind::header, lower(*header)};
  try {
    const nlohmann::json::json_pointer check(*pointer);
  } catch (const nlohmann::json::exception&) {
    section.fail("json_pointer", "not a JSON pointer (e.g. \"/customer/id\")");
  }
  return {RoutingKeyRule::Kind::json_pointer, *pointer};
}

std::shared_ptr<const JsonSchema> load_schema(const connect::SchemaMapping& mapping,
                                              const ConfigSection& route, std::string_view key) {
  std::ifstream file(mapping.schema.schema_file, std::ios::binary);
  if (!file) route.fail(key, "cannot read the schema file " + mapping.schema.schema_file.string());
  auto text = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  if (text.is_discarded()) {
    route.fail(key, "the schema file " + mapping.schema.schema_file.string() + " is not JSON");
  }
  try {
    return std::make_shared<const JsonSchema>(std::move(text));
  } catch (const std::invalid_argument& problem) {
    route.fail(key,
               "the schema file " + mapping.schema.schema_file.string() + ": " + problem.what());
  }
}

EndpointSettings parse_endpoint(const ConfigSection& route, bool legacy,
                                const connect::ConnectorConfig& config,
                                const AuthSettings& global_auth,
                                const std::optional<RateLimitSettings>& global_limits) {
  const char* path_key = legacy ? "path" : "from";
  const char* topic_key = legacy ? "danube_topic" : "to";
  route.reject_unknown_keys({path_key, topic_key, "partitions", "reliable_dispatch", "rate_limit",
                             "auth", "require_json", "validate_schema", "routing_key",
                             "attribute_headers"});
  EndpointSettings endpoint;
  endpoint.path = route.require_string(path_key);
  if (!endpoint.path.starts_with('/')) {
    route.fail(path_key, "must start with '/' (got \"" + endpoint.path + "\")");
  }
  endpoint.topic = route.require_topic(topic_key);
  endpoint.partitions = static_cast<std::size_t>(route.get_integer("partitions", 0, 0, 10'000));
  endpoint.reliable_dispatch = route.get_bool("reliable_dispatch", false);
  if (const auto limits = route.get_section("rate_limit")) {
    endpoint.rate_limit = parse_rate_limit(*limits);
  } else {
    endpoint.rate_limit = global_limits;
  }
  if (const auto auth = route.get_section("auth")) {
    endpoint.auth = parse_auth(*auth, /*shared_with_sdk=*/false);
  } else {
    endpoint.auth = global_auth;
  }
  endpoint.require_json = route.get_bool("require_json", false);
  const auto* mapping = config.schema_for_topic(endpoint.topic);
  const bool json_schema = mapping != nullptr &&
                           mapping->schema.schema_type == connect::SchemaType::json_schema &&
                           !mapping->schema.schema_file.empty();
  const auto validate = route.get_bool("validate_schema");
  if (validate.value_or(json_schema)) {
    if (!json_schema) {
      route.fail("validate_schema",
                 "no [[schemas]] json_schema entry with a schema_file for " + endpoint.topic);
    }
    endpoint.schema = load_schema(*mapping, route, "validate_schema");
  }
  if (const auto rule = route.get_section("routing_key")) {
    endpoint.routing_key = parse_routing_key(*rule);
  }
  for (const auto& header :
       route.get_string_array("attribute_headers").value_or(std::vector<std::string>{})) {
    endpoint.attribute_headers.push_back(lower(header));
  }
  return endpoint;
}

}  // namespace

std::string AuthSettings::describe() const {
  switch (mode) {
    case AuthMode::none:
      return "none";
    case AuthMode::api_key:
      return "apikey header=" + header + " secret=" + secret_origin;
    case AuthMode::hmac:
      return std::string("hmac style=") + (hmac_style == HmacStyle::stripe ? "stripe" : "github") +
             " algorithm=" + (algorithm == HmacAlgorithm::sha512 ? "sha512" : "sha256") +
             " header=" + header + " secret=" + secret_origin;
    case AuthMode::jwt:
      return std::string("jwt algorithm=") + (jwt_public_key_pem.empty() ? "HS256" : "RS256") +
             " key=" + secret_origin;
  }
  return "unknown";
}

WebhookSettings parse_webhook_settings(const connect::ConnectorConfig& config,
                                       const connect::Environment& environment) {
  WebhookSettings settings;
  const ConfigSection empty = ConfigSection::parse("", "defaults");
  settings.server =
      parse_server(config.has_section("server") ? config.section("server") : empty, environment);
  const AuthSettings global_auth =
      config.has_section("auth") ? parse_auth(config.section("auth"), /*shared_with_sdk=*/true)
                                 : AuthSettings{};
  std::optional<RateLimitSettings> global_limits;
  if (config.has_section("rate_limit"))
    global_limits = parse_rate_limit(config.section("rate_limit"));

  const auto routes = config.sections("routes");
  const auto legacy = config.sections("endpoints");
  if (!routes.empty() && !legacy.empty()) {
    legacy.front().fail("path", "use [[routes]] or the older [[endpoints]], not both");
  }
  if (routes.empty() && legacy.empty()) {
    throw ConfigError(config.custom_sections.location("routes"), "[[routes]]",
                      "at least one route is required");
  }
  std::map<std::string, const EndpointSettings*> by_topic;
  for (const auto& route : routes.empty() ? legacy : routes) {
    auto endpoint = parse_endpoint(route, routes.empty(), config, global_auth, global_limits);
    for (const auto& known : settings.endpoints) {
      if (known.path == endpoint.path) {
        route.fail(routes.empty() ? "path" : "from", "duplicate route path " + endpoint.path);
      }
    }
    settings.endpoints.push_back(std::move(endpoint));
  }
  // One producer per topic: routes that share a topic must agree on how it is published.
  for (const auto& endpoint : settings.endpoints) {
    const auto [found, added] = by_topic.emplace(endpoint.topic, &endpoint);
    if (!added && (found->second->partitions != endpoint.partitions ||
                   found->second->reliable_dispatch != endpoint.reliable_dispatch)) {
      throw ConfigError("", "[[routes]] " + endpoint.path,
                        "shares topic " + endpoint.topic + " with " + found->second->path +
                            " but not its partitions / reliable_dispatch");
    }
  }
  return settings;
}

}  // namespace danube::webhook
