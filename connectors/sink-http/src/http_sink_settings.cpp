#include "http_sink_settings.hpp"

#include <algorithm>
#include <cctype>
#include <set>

#include "danube/connect/version.hpp"
#include "route_consumer.hpp"
#include "secrets.hpp"

namespace danube::sink_http {

namespace {

using connect::ConfigSection;

constexpr std::int64_t kMaxMillis = 3'600'000;

// Keys that both [http_sink] (as defaults) and a route (as its own value) accept.
const std::vector<std::string> kSharedKeys = {"request_timeout_ms", "connect_timeout_ms",
                                              "max_concurrency",    "retry_attempts",
                                              "retry_backoff_ms",   "max_retry_backoff_ms",
                                              "max_retry_after_ms", "tls_ca_file",
                                              "tls_verify",         "headers"};

std::vector<std::string> with_shared_keys(std::vector<std::string> keys) {
  keys.insert(keys.end(), kSharedKeys.begin(), kSharedKeys.end());
  return keys;
}

// The route's value when it sets `key`, else [http_sink]'s, else `fallback`.
std::int64_t inherited_integer(const ConfigSection& route, const ConfigSection& table,
                               std::string_view key, std::int64_t fallback, std::int64_t min,
                               std::int64_t max) {
  const std::int64_t table_value = table.get_integer(key, fallback, min, max);
  return route.get_integer(key, table_value, min, max);
}

bool is_token_character(char c) {
  // RFC 9110 tchar: what a header name may contain.
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

void read_headers(const ConfigSection& owner,
                  std::vector<std::pair<std::string, std::string>>& headers) {
  const auto table = owner.get_section("headers");
  if (!table) return;
  for (const auto& name : table->keys()) {
    if (name.empty() || !std::all_of(name.begin(), name.end(), is_token_character)) {
      table->fail(name, "is not a valid HTTP header name");
    }
    const std::string value = table->require_string(name);
    if (value.find_first_of("\r\n") != std::string::npos) {
      table->fail(name, "a header value must not contain line breaks");
    }
    // A route's header replaces [http_sink]'s of the same name (case-insensitively).
    const auto same_name = [&](const auto& header) {
      return std::equal(header.first.begin(), header.first.end(), name.begin(), name.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
    };
    std::erase_if(headers, same_name);
    headers.emplace_back(name, value);
  }
}

// A secret named by `<prefix>_env` (an environment variable) or `<prefix>_file`; exactly one.
std::string read_secret(const ConfigSection& auth, const std::string& prefix,
                        const EnvironmentLookup& environment) {
  const std::string env_key = prefix + "_env";
  const std::string file_key = prefix + "_file";
  const auto variable = auth.get_string(env_key);
  if (variable && auth.contains(file_key)) {
    auth.fail(env_key, "set either " + env_key + " or " + file_key + ", not both");
  }
  if (variable) {
    const auto value = environment(*variable);
    if (!value || value->empty()) {
      auth.fail(env_key, "environment variable " + *variable + " is not set or empty");
    }
    return *value;
  }
  if (auto from_file = connectors::secret_from_file(auth, file_key)) return *from_file;
  auth.fail(env_key, "required: the name of an environment variable (or " + file_key +
                         ", a file) holding the " + prefix);
}

AuthSettings read_auth(const ConfigSection& route, const EnvironmentLookup& environment) {
  AuthSettings auth;
  const auto table = route.get_section("auth");
  if (!table) return auth;
  // Secrets written into the file would end up in backups and repositories: refuse them.
  for (const char* literal : {"token", "password", "secret"}) {
    if (table->contains(literal)) {
      table->fail(literal, std::string("secrets are not read from the file: use ") + literal +
                               "_env (an environment variable) or " + literal + "_file");
    }
  }
  const std::string kind = table->require_string("type");
  if (kind == "none") {
    table->reject_unknown_keys({"type"});
  } else if (kind == "bearer") {
    table->reject_unknown_keys({"type", "token_env", "token_file"});
    auth.kind = AuthSettings::Kind::bearer;
    auth.bearer_token = read_secret(*table, "token", environment);
  } else if (kind == "basic") {
    table->reject_unknown_keys({"type", "username", "password_env", "password_file"});
    auth.kind = AuthSettings::Kind::basic;
    auth.username = table->require_string("username");
    if (auth.username.find(':') != std::string::npos) {
      table->fail("username", "must not contain ':' (HTTP basic authentication)");
    }
    auth.password = read_secret(*table, "password", environment);
  } else if (kind == "hmac_sha256") {
    table->reject_unknown_keys({"type", "secret_env", "secret_file", "header", "prefix"});
    auth.kind = AuthSettings::Kind::hmac_sha256;
    auth.hmac_secret = read_secret(*table, "secret", environment);
    auth.signature_header = table->get_string("header", auth.signature_header);
    if (auth.signature_header.empty() ||
        !std::all_of(auth.signature_header.begin(), auth.signature_header.end(),
                     is_token_character)) {
      table->fail("header", "is not a valid HTTP header name");
    }
    auth.signature_prefix = table->get_string("prefix", auth.signature_prefix);
  } else {
    table->fail("type", "must be \"none\", \"bearer\", \"basic\" or \"hmac_sha256\" (got \"" +
                            kind + "\")");
  }
  return auth;
}

BodyFormat read_body_format(const ConfigSection& route) {
  const std::string text = route.get_string("body_format", "single");
  if (text == "single") return BodyFormat::single;
  if (text == "json_array") return BodyFormat::json_array;
  if (text == "ndjson") return BodyFormat::ndjson;
  route.fail("body_format",
             "must be \"single\", \"json_array\" or \"ndjson\" (got \"" + text + "\")");
}

std::string read_method(const ConfigSection& route) {
  std::string method = route.get_string("method", "POST");
  std::transform(method.begin(), method.end(), method.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (method != "POST" && method != "PUT" && method != "PATCH") {
    route.fail("method", "must be POST, PUT or PATCH (got \"" + method + "\")");
  }
  return method;
}

std::string read_url(const ConfigSection& route) {
  const std::string url = route.require_string("to");
  if (!url.starts_with("http://") && !url.starts_with("https://")) {
    route.fail("to", "must be an http:// or https:// URL (got \"" + url + "\")");
  }
  if (url.find_first_of(" \r\n\t") != std::string::npos) {
    route.fail("to", "must not contain whitespace");
  }
  return url;
}

Route read_route(const ConfigSection& route, const ConfigSection& table, std::size_t index,
                 const connect::ConnectorConfig& config, const EnvironmentLookup& environment) {
  route.reject_unknown_keys(with_shared_keys(
      {"from", "to", "subscription", "subscription_type", "consumer_name",
       "expected_schema_subject", "method", "body_format", "content_type", "auth", "ordering",
       "max_batch_records", "max_batch_bytes", "split_rejected_batches", "metadata_headers"}));
  Route result;
  result.consumer = connectors::read_route_consumer(route, config.connector_name, index);

  result.url = read_url(route);
  result.loggable_url = loggable_url(result.url);
  result.method = read_method(route);
  result.body_format = read_body_format(route);
  result.content_type = route.get_string("content_type", result.body_format == BodyFormat::ndjson
                                                             ? "application/x-ndjson"
                                                             : "application/json");
  read_headers(table, result.headers);
  read_headers(route, result.headers);
  result.auth = read_auth(route, environment);

  result.request_timeout = std::chrono::milliseconds(
      inherited_integer(route, table, "request_timeout_ms", 30'000, 10, kMaxMillis));
  result.connect_timeout = std::chrono::milliseconds(
      inherited_integer(route, table, "connect_timeout_ms", 10'000, 10, kMaxMillis));
  result.max_concurrency =
      static_cast<std::size_t>(inherited_integer(route, table, "max_concurrency", 8, 1, 256));
  const std::string ordering = route.get_string("ordering", "strict");
  if (ordering == "strict") {
    result.ordering = RequestOrdering::strict;
  } else if (ordering == "relaxed") {
    result.ordering = RequestOrdering::relaxed;
  } else {
    route.fail("ordering", "must be \"strict\" or \"relaxed\" (got \"" + ordering + "\")");
  }
  result.max_batch_records =
      static_cast<std::size_t>(route.get_integer("max_batch_records", 100, 1, 100'000));
  result.max_batch_bytes = static_cast<std::size_t>(
      route.get_integer("max_batch_bytes", 1 << 20, 1024, std::int64_t{1} << 30));
  result.split_rejected_batches = route.get_bool("split_rejected_batches", true);
  result.metadata_headers = route.get_bool("metadata_headers", true);

  const auto ca_file = route.get_string("tls_ca_file");
  result.tls_ca_file = ca_file ? ca_file : table.get_string("tls_ca_file");
  result.tls_verify = route.get_bool("tls_verify", table.get_bool("tls_verify", true));

  result.retry.attempts =
      static_cast<std::uint32_t>(inherited_integer(route, table, "retry_attempts", 3, 0, 100));
  result.retry.backoff = std::chrono::milliseconds(
      inherited_integer(route, table, "retry_backoff_ms", 200, 1, kMaxMillis));
  result.retry.max_backoff = std::chrono::milliseconds(
      inherited_integer(route, table, "max_retry_backoff_ms", 5'000, 1, kMaxMillis));
  if (result.retry.max_backoff < result.retry.backoff) {
    route.fail("max_retry_backoff_ms", "must not be below retry_backoff_ms");
  }
  result.retry.max_retry_after = std::chrono::milliseconds(
      inherited_integer(route, table, "max_retry_after_ms", 10'000, 0, kMaxMillis));
  return result;
}

}  // namespace

HttpSinkSettings read_http_sink_settings(const connect::ConnectorConfig& config,
                                         const EnvironmentLookup& environment) {
  const ConfigSection table = config.section("http_sink");
  table.reject_unknown_keys(with_shared_keys({"routes", "user_agent"}));
  HttpSinkSettings settings;
  settings.user_agent =
      table.get_string("user_agent", "danube-sink-http/" + std::string(connect::VERSION));
  const auto routes = table.require_sections("routes");
  std::set<std::string> topics;
  for (std::size_t i = 0; i < routes.size(); ++i) {
    Route route = read_route(routes[i], table, i, config, environment);
    if (!topics.insert(route.consumer.topic).second) {
      routes[i].fail("from", "topic " + route.consumer.topic + " has a route already");
    }
    settings.routes.push_back(std::move(route));
  }
  return settings;
}

std::string loggable_url(std::string_view url) {
  url = url.substr(0, url.find_first_of("?#"));
  const auto authority = url.find("://");
  if (authority == std::string_view::npos) return std::string(url);
  const auto host = authority + 3;
  const auto path = url.find('/', host);
  const auto at = url.substr(0, path).rfind('@');
  if (at == std::string_view::npos || at < host) return std::string(url);
  return std::string(url.substr(0, host)) + std::string(url.substr(at + 1));
}

std::string_view to_string(BodyFormat format) {
  switch (format) {
    case BodyFormat::single:
      return "single";
    case BodyFormat::json_array:
      return "json_array";
    case BodyFormat::ndjson:
      return "ndjson";
  }
  return "?";
}

std::string_view to_string(AuthSettings::Kind kind) {
  switch (kind) {
    case AuthSettings::Kind::none:
      return "none";
    case AuthSettings::Kind::bearer:
      return "bearer";
    case AuthSettings::Kind::basic:
      return "basic";
    case AuthSettings::Kind::hmac_sha256:
      return "hmac_sha256";
  }
  return "?";
}

}  // namespace danube::sink_http
