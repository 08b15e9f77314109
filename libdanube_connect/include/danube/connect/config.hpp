#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "danube/common/backoff.hpp"
#include "danube/common/delivery_modes.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/config_section.hpp"
#include "danube/connect/environment.hpp"
#include "danube/connect/schema_config.hpp"

namespace danube::connect {

// [retry]: how retryable failures are retried (danube/common/backoff.hpp has the formula).
struct RetrySettings {
  std::uint32_t max_retries = 3;  // 0..100
  std::uint64_t retry_backoff_ms = 1000;
  std::uint64_t max_backoff_ms = 30000;
  double multiplier = 2.0;  // 1.0..10.0
  bool jitter = true;       // multiply each delay by a random factor in [0.5, 1.5)

  BackoffPolicy backoff_policy() const {
    return {std::chrono::milliseconds(retry_backoff_ms), std::chrono::milliseconds(max_backoff_ms),
            multiplier, jitter, max_retries};
  }
};

enum class LogFormat { text, json };

// [processing]
struct ProcessingSettings {
  std::size_t batch_size = 1000;
  std::uint64_t batch_timeout_ms = 1000;
  std::uint64_t poll_interval_ms = 100;
  std::uint16_t metrics_port = 9090;  // 0 = pick a free port
  std::string log_level = "info";     // trace, debug, info, warn, error, critical, off
  LogFormat log_format = LogFormat::text;
  std::uint64_t health_check_interval_ms = 30000;
  std::uint32_t health_check_failure_threshold = 3;
};

// [[schemas]]: the schema a source publishes with on a topic.
struct SchemaMapping {
  std::string topic;
  SchemaConfig schema;

  friend bool operator==(const SchemaMapping&, const SchemaMapping&) = default;
};

// What a sink does with a record that failed for good (invalid data, exhausted retries).
enum class DeadLetterPolicy {
  dead_letter,  // publish it to the dead-letter topic, with the error in attributes, and ack it
  fail,         // stop the connector (the record stays unacked)
  skip,         // log, count, and ack it
};

// [dead_letter]
struct DeadLetterSettings {
  DeadLetterPolicy policy = DeadLetterPolicy::dead_letter;
  // Empty = `/default/<connector_name>-dlq` (see ConnectorConfig::dead_letter_topic()).
  std::string topic;
};

using danube::Ordering;  // [delivery] ordering: see danube/common/delivery_modes.hpp

// What a sink does when offsets of a reliable partition were skipped (docs/delivery.md).
enum class OnGap {
  report,  // log, count, record and mark /health degraded, and keep consuming
  fail,    // report, then stop the connector as failed (exit code 1, or a supervised restart)
};

// [delivery]: bounds on work in flight, and what a sink does about lost messages.
struct DeliverySettings {
  std::size_t max_inflight_records = 10000;
  std::uint64_t max_inflight_bytes = 64ull * 1024 * 1024;
  Ordering ordering = Ordering::strict;
  std::uint32_t max_inflight_sends = 64;  // pipelined publishes per producer
  // Ack/Nack calls a sink keeps open per consumed partition. Each open call holds a gRPC call
  // arena (about 20 KiB), so this bounds memory while draining a backlog (docs/memory.md).
  std::uint32_t max_inflight_acks = 32;
  OnGap on_gap = OnGap::report;
  // Every gap a sink detects is appended here as one JSON line; empty:
  // `<offsets.state_dir>/<connector_name>.gaps.jsonl`.
  std::filesystem::path gap_file;
  // Once a line brings the gap file to gap_file_max_bytes, the file is renamed to
  // `<gap file>.1`, older copies move up to `.<gap_file_keep>` and the one beyond is removed.
  std::uint64_t gap_file_max_bytes = 10ull * 1024 * 1024;
  std::uint32_t gap_file_keep = 5;
};

// [http]: the /metrics, /health, /ready and admin (/status, /pause, /resume) server. Its port
// is processing.metrics_port.
struct HttpSettings {
  bool enabled = true;
  std::string bind_address = "0.0.0.0";
  // The token POST /pause and /resume require (`Authorization: Bearer <token>`), never written
  // in the file itself: the name of the environment variable that holds it, or a file holding
  // it (mutually exclusive). Neither set: those requests are accepted from loopback clients
  // only. See ConnectorConfig::resolve_admin_token().
  std::string admin_token_env;
  std::optional<std::filesystem::path> admin_token_file;
};

// [auth]: TLS files and the JWT sent to the broker. The token is never logged.
struct AuthSettings {
  std::optional<std::filesystem::path> tls_ca_file;
  std::optional<std::filesystem::path> tls_cert_file;
  std::optional<std::filesystem::path> tls_key_file;
  std::optional<std::string> token;
  std::optional<std::filesystem::path> token_file;

  // The token, read from token_file when that is set (surrounding whitespace trimmed).
  // Throws ConfigError when the file cannot be read or is empty.
  std::optional<std::string> resolve_token() const;
  bool has_tls_files() const { return tls_ca_file || tls_cert_file || tls_key_file; }
};

// [shutdown]
struct ShutdownSettings {
  std::uint64_t timeout_ms = 30000;
};

enum class OnFatal { exit, restart };

// [supervision]: what happens when the connector fails fatally, or one of the runtime's own
// actors dies (always restarted). At most max_restarts restarts within restart_window_ms: a
// failure beyond that stops the connector, as Erlang/OTP supervisors count their intensity.
struct SupervisionSettings {
  OnFatal on_fatal = OnFatal::exit;
  std::uint32_t max_restarts = 5;
  std::uint64_t restart_window_ms = 300000;
  std::uint64_t restart_backoff_ms = 1000;
  std::uint64_t max_restart_backoff_ms = 30000;
};

// [offsets]: where and how often the source runtime commits offsets.
struct OffsetSettings {
  std::filesystem::path state_dir = "./state";
  // Settled offsets are committed (connector.commit() and the fsynced offset store) at most this
  // often, and always once more when draining; 0 commits after every settlement.
  std::uint64_t commit_interval_ms = 1000;
};

// [sink_buffer]: a durable local buffer between a sink's consumers and its connector (sinks
// only). Received messages are written and fsynced there before the broker is told they are
// acked; the connector processes them from the buffer, and what it has not finished when the
// process stops or dies is processed by the next run. See docs/delivery.md.
struct SinkBufferSettings {
  bool enabled = false;
  std::uint64_t max_bytes = 1ull << 30;  // for the whole connector, split over its partitions
  std::uint64_t segment_bytes = 16ull << 20;
  // Empty: `<offsets.state_dir>/<connector_name>.buffer`.
  std::filesystem::path directory;
};

// The whole configuration of one connector process.
//
// Build it programmatically (every field has the seed's default), from the environment
// (`from_env`), from a TOML file (`from_file`), or with ConfigLoader (file from
// CONNECTOR_CONFIG_PATH, environment overrides, connector sections, validation).
struct ConnectorConfig {
  std::string danube_service_url = "http://localhost:6650";
  std::string connector_name = "default-connector";
  RetrySettings retry;
  ProcessingSettings processing;
  std::vector<SchemaMapping> schemas;
  DeadLetterSettings dead_letter;
  DeliverySettings delivery;
  HttpSettings http;
  AuthSettings auth;
  ShutdownSettings shutdown;
  SupervisionSettings supervision;
  OffsetSettings offsets;
  SinkBufferSettings sink_buffer;
  // The connector's own top-level tables (`[mqtt]`, `[[routes]]`), as declared with
  // ConfigLoader::allow_section. Programmatically: `ConfigSection::parse("[mqtt]\n...")`.
  ConfigSection custom_sections;
  // Where each key was set ("processing.batch_size" -> "/etc/c.toml:12" or an environment
  // variable name), so validation errors can name it. Filled by the loaders.
  std::map<std::string, std::string, std::less<>> origins;
  // Keys accepted for compatibility with the Rust SDK's configuration files but without effect
  // there or here (e.g. `[retry] initial_interval_ms`), one sentence each naming the key and
  // where it was set. The run helpers log them as warnings at start.
  std::vector<std::string> ignored_keys;

  // DANUBE_SERVICE_URL and CONNECTOR_NAME (both required), the other environment overrides,
  // defaults for the rest; validated. Throws ConfigError.
  static ConnectorConfig from_env();
  static ConnectorConfig from_env(const Environment& environment);
  // A TOML file, validated, without environment overrides. Unknown tables are errors; use
  // ConfigLoader to allow a connector's own tables. Throws ConfigError.
  static ConnectorConfig from_file(const std::filesystem::path& path);
  // The seed's ConnectorConfig::load(): the TOML file named by CONNECTOR_CONFIG_PATH, then the
  // environment overrides, then validation (ConfigLoader().load()). `own_sections` names the
  // connector's own top-level tables, which are errors otherwise. Throws ConfigError.
  static ConnectorConfig load(const std::vector<std::string>& own_sections = {});

  // DANUBE_SERVICE_URL, CONNECTOR_NAME, LOG_LEVEL, LOG_FORMAT, and
  // DANUBE_CONNECT__<SECTION>__<KEY> (or DANUBE_CONNECT__<KEY> for top-level keys) for every
  // key of the SDK's sections, parsed by the key's type. The generic form wins over the short
  // names. Variables naming a connector section override its top-level keys when that section
  // is in `custom_section_names` or already present. Throws ConfigError naming the variable.
  void apply_env_overrides();
  void apply_env_overrides(const Environment& environment,
                           const std::vector<std::string>& custom_section_names = {});

  // The admin token ([http] admin_token_env or admin_token_file), read from `environment` or
  // the file (surrounding whitespace trimmed); nullopt when neither key is set. Throws
  // ConfigError naming the key when the variable is unset or empty, or the file cannot be read
  // or is empty. The token itself never appears in the message.
  std::optional<std::string> resolve_admin_token() const;
  std::optional<std::string> resolve_admin_token(const Environment& environment) const;

  // Checks every value; throws ConfigError naming the first bad key (and its file and line
  // when known).
  void validate() const;

  // The dead-letter topic: dead_letter.topic, or `/default/<connector_name>-dlq`.
  std::string dead_letter_topic() const;
  // Where sinks record lost offsets: delivery.gap_file, or
  // `<offsets.state_dir>/<connector_name>.gaps.jsonl`.
  std::filesystem::path gap_file() const;
  // Where the sink buffer keeps its partitions: sink_buffer.directory, or
  // `<offsets.state_dir>/<connector_name>.buffer`.
  std::filesystem::path sink_buffer_directory() const;
  // The [[schemas]] entry for `topic`, or nullptr.
  const SchemaMapping* schema_for_topic(std::string_view topic) const;

  // A connector table. `section` throws ConfigError "missing section [name]" when absent.
  bool has_section(std::string_view name) const { return custom_sections.contains(name); }
  ConfigSection section(std::string_view name) const;
  std::vector<ConfigSection> sections(std::string_view name) const;

  // One line for the startup log: every setting with the token redacted.
  std::string describe() const;
};

std::string_view to_string(DeadLetterPolicy policy);
std::string_view to_string(OnFatal on_fatal);
std::string_view to_string(OnGap on_gap);
std::string_view to_string(LogFormat format);

}  // namespace danube::connect
