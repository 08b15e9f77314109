#include "danube/connect/config.hpp"

#include <algorithm>
#include <cctype>
#include <fstream>
#include <set>
#include <sstream>

#include "config_document.hpp"
#include "config_fields.hpp"
#include "danube/common/files.hpp"
#include "danube/common/topic_name.hpp"
#include "danube/connect/config_loader.hpp"
#include "danube/connect/config_report.hpp"
#include "danube/connect/logger.hpp"

namespace danube::connect {

std::string_view to_string(DeadLetterPolicy policy) {
  switch (policy) {
    case DeadLetterPolicy::dead_letter:
      return "dead_letter";
    case DeadLetterPolicy::fail:
      return "fail";
    case DeadLetterPolicy::skip:
      return "skip";
  }
  return "dead_letter";
}

std::string_view to_string(OnGap on_gap) {
  return on_gap == OnGap::report ? "report" : "fail";
}

std::string_view to_string(OnFatal on_fatal) {
  return on_fatal == OnFatal::exit ? "exit" : "restart";
}

std::string_view to_string(LogFormat format) {
  return format == LogFormat::text ? "text" : "json";
}

namespace {

constexpr std::string_view kGenericPrefix = "DANUBE_CONNECT__";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Validation helper: knows where each key came from.
class Checker {
 public:
  explicit Checker(const ConnectorConfig& config) : config_(config) {}

  // Throws ConfigError for `section`.`key` unless `ok`.
  void require(bool ok, std::string_view section, std::string_view key,
               const std::string& problem) const {
    if (!ok) fail(section, key, problem);
  }

  [[noreturn]] void fail(std::string_view section, std::string_view key,
                         const std::string& problem) const {
    throw ConfigError(location(section, key), display_key(section, key), problem);
  }

  std::string location(std::string_view section, std::string_view key) const {
    const auto& origins = config_.origins;
    if (const auto it = origins.find(config_fields::origin_key(section, key));
        it != origins.end()) {
      return it->second;
    }
    if (const auto it = origins.find(std::string(section)); it != origins.end()) return it->second;
    return {};
  }

 private:
  const ConnectorConfig& config_;
};

std::string got(std::uint64_t value) {
  return " (got " + std::to_string(value) + ")";
}

void check_range(const Checker& check, std::string_view section, std::string_view key,
                 std::uint64_t value, std::uint64_t min, std::uint64_t max) {
  check.require(value >= min, section, key, "must be >= " + std::to_string(min) + got(value));
  check.require(value <= max, section, key, "must be <= " + std::to_string(max) + got(value));
}

// http(s)://host[:port][/...]
std::optional<std::string> url_problem(const std::string& url) {
  std::string_view rest = url;
  if (rest.starts_with("http://")) {
    rest.remove_prefix(7);
  } else if (rest.starts_with("https://")) {
    rest.remove_prefix(8);
  } else {
    return "must start with http:// or https:// (got " + quote_excerpt(url) + ")";
  }
  const std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view host = authority;
  std::string_view port;
  if (authority.starts_with("[")) {  // [::1]:6650
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return "has an unterminated IPv6 address";
    host = authority.substr(0, close + 1);
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return "has garbage after the IPv6 address";
      port = authority.substr(close + 2);
    }
  } else if (const auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    port = authority.substr(colon + 1);
  }
  if (host.empty()) return "has no host (got " + quote_excerpt(url) + ")";
  for (char c : host) {
    if (std::isspace(static_cast<unsigned char>(c))) return "has whitespace in the host";
  }
  if (!port.empty() || authority.ends_with(":")) {
    int number = 0;
    for (char c : port) {
      if (!std::isdigit(static_cast<unsigned char>(c)) || number > 65535) {
        return "has an invalid port (got " + quote_excerpt(url) + ")";
      }
      number = number * 10 + (c - '0');
    }
    if (port.empty() || number < 1 || number > 65535) {
      return "has an invalid port (got " + quote_excerpt(url) + ")";
    }
  }
  return std::nullopt;
}

void check_file(const Checker& check, std::string_view section, std::string_view key,
                const std::optional<std::filesystem::path>& file) {
  if (!file) return;
  check.require(!file->empty(), section, key, "must not be empty when set");
  std::error_code error;
  const bool regular = std::filesystem::is_regular_file(*file, error);
  check.require(regular, section, key, "file not found: " + file->string());
}

// What a shell accepts as a variable name: a letter or _, then letters, digits or _.
bool is_variable_name(std::string_view name) {
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name.front()))) return false;
  return std::all_of(name.begin(), name.end(),
                     [](unsigned char c) { return std::isalnum(c) || c == '_'; });
}

// `text` without surrounding whitespace (a secret read from a file or variable).
std::string trimmed(const std::string& text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first == std::string::npos) return {};
  const auto last = text.find_last_not_of(" \t\r\n");
  return text.substr(first, last - first + 1);
}

}  // namespace

void ConnectorConfig::validate() const {
  const Checker check(*this);

  if (const auto problem = url_problem(danube_service_url)) {
    check.fail("", "danube_service_url", *problem);
  }
  check.require(!connector_name.empty(), "", "connector_name", "must not be empty");
  check.require(connector_name.size() <= 200, "", "connector_name",
                "must be at most 200 characters" + got(connector_name.size()));
  check.require(std::none_of(connector_name.begin(), connector_name.end(),
                             [](unsigned char c) { return c <= 0x20 || c == 0x7f; }),
                "", "connector_name",
                "must not contain whitespace or control characters (got " +
                    quote_excerpt(connector_name) + ")");

  check.require(retry.max_retries <= 100, "retry", "max_retries",
                "must be <= 100" + got(retry.max_retries));
  check_range(check, "retry", "retry_backoff_ms", retry.retry_backoff_ms, 1, 3'600'000);
  check_range(check, "retry", "max_backoff_ms", retry.max_backoff_ms, 1, 3'600'000);
  check.require(retry.max_backoff_ms >= retry.retry_backoff_ms, "retry", "max_backoff_ms",
                "must be >= retry_backoff_ms (" + std::to_string(retry.retry_backoff_ms) + ")" +
                    got(retry.max_backoff_ms));
  check.require(retry.multiplier >= 1.0 && retry.multiplier <= 10.0, "retry", "multiplier",
                "must be between 1.0 and 10.0 (got " + std::to_string(retry.multiplier) + ")");

  check_range(check, "processing", "batch_size", processing.batch_size, 1, 1'000'000);
  check_range(check, "processing", "batch_timeout_ms", processing.batch_timeout_ms, 1, 3'600'000);
  check_range(check, "processing", "poll_interval_ms", processing.poll_interval_ms, 1, 3'600'000);
  check.require(parse_log_level(processing.log_level).has_value(), "processing", "log_level",
                "must be one of trace, debug, info, warn, error, critical, off (got " +
                    quote_excerpt(processing.log_level) + ")");
  check_range(check, "processing", "health_check_interval_ms", processing.health_check_interval_ms,
              100, 86'400'000);
  check_range(check, "processing", "health_check_failure_threshold",
              processing.health_check_failure_threshold, 1, 1000);

  std::set<std::string> schema_topics;
  for (std::size_t i = 0; i < schemas.size(); ++i) {
    const auto& mapping = schemas[i];
    const std::string section = "schemas[" + std::to_string(i) + "]";
    std::string why;
    check.require(parse_topic_name(mapping.topic, &why).has_value(), section, "topic",
                  "not a valid topic name: " + why + " (got " + quote_excerpt(mapping.topic) + ")");
    check.require(schema_topics.insert(mapping.topic).second, section, "topic",
                  "topic " + quote_excerpt(mapping.topic) + " already has a [[schemas]] entry");
    check.require(!mapping.schema.subject.empty(), section, "subject", "must not be empty");
    const bool needs_file = schema_type_needs_definition(mapping.schema.schema_type);
    if (needs_file) {
      check.require(
          !mapping.schema.schema_file.empty(), section, "schema_file",
          "required for schema_type " + std::string(to_string(mapping.schema.schema_type)));
    }
    if (!mapping.schema.schema_file.empty()) {
      std::error_code error;
      check.require(std::filesystem::is_regular_file(mapping.schema.schema_file, error), section,
                    "schema_file", "file not found: " + mapping.schema.schema_file.string());
    }
    if (mapping.schema.version_strategy.kind != VersionStrategy::Kind::latest) {
      check.require(mapping.schema.version_strategy.version >= 1, section, "version_strategy",
                    "the version must be >= 1");
    }
    check.require(
        mapping.schema.message_type.empty() || mapping.schema.schema_type == SchemaType::protobuf,
        section, "message_type", "only applies to schema_type protobuf");
  }

  {
    std::string why;
    const std::string topic = dead_letter_topic();
    const bool valid = parse_topic_name(topic, &why).has_value();
    if (!dead_letter.topic.empty()) {
      check.require(valid, "dead_letter", "topic",
                    "not a valid topic name: " + why + " (got " + quote_excerpt(topic) + ")");
    } else if (dead_letter.policy == DeadLetterPolicy::dead_letter && !valid) {
      // The culprit is connector_name, so point at where that was set.
      throw ConfigError(check.location("", "connector_name"), "[dead_letter] topic",
                        "the default " + quote_excerpt(topic) +
                            " derived from connector_name is not a valid topic name (" + why +
                            "); set [dead_letter] topic");
    }
  }

  check_range(check, "delivery", "max_inflight_records", delivery.max_inflight_records, 1,
              10'000'000);
  check_range(check, "delivery", "max_inflight_bytes", delivery.max_inflight_bytes, 1024,
              64ull * 1024 * 1024 * 1024);
  check_range(check, "delivery", "max_inflight_sends", delivery.max_inflight_sends, 1, 100'000);
  check_range(check, "delivery", "max_inflight_acks", delivery.max_inflight_acks, 1, 10'000);
  check_range(check, "delivery", "gap_file_max_bytes", delivery.gap_file_max_bytes, 1024,
              1ull << 40);
  check_range(check, "delivery", "gap_file_keep", delivery.gap_file_keep, 1, 1000);

  if (http.enabled) {
    check.require(!http.bind_address.empty(), "http", "bind_address", "must not be empty");
    check.require(
        std::none_of(http.bind_address.begin(), http.bind_address.end(),
                     [](unsigned char c) { return std::isspace(c) || c == '/'; }),
        "http", "bind_address",
        "must be an IP address or host name (got " + quote_excerpt(http.bind_address) + ")");
  }
  check.require(http.admin_token_env.empty() || is_variable_name(http.admin_token_env), "http",
                "admin_token_env",
                "must name an environment variable (letters, digits, _; got " +
                    quote_excerpt(http.admin_token_env) + ")");
  check_file(check, "http", "admin_token_file", http.admin_token_file);
  check.require(http.admin_token_env.empty() || !http.admin_token_file, "http", "admin_token_file",
                "admin_token_env and admin_token_file are mutually exclusive");

  check_file(check, "auth", "tls_ca_file", auth.tls_ca_file);
  check_file(check, "auth", "tls_cert_file", auth.tls_cert_file);
  check_file(check, "auth", "tls_key_file", auth.tls_key_file);
  check_file(check, "auth", "token_file", auth.token_file);
  check.require(auth.tls_cert_file.has_value() == auth.tls_key_file.has_value(), "auth",
                auth.tls_cert_file ? "tls_key_file" : "tls_cert_file",
                "tls_cert_file and tls_key_file must be set together");
  check.require(!(auth.token && auth.token_file), "auth", "token_file",
                "token and token_file are mutually exclusive");
  // Deliberately no value in this message: it is a secret.
  check.require(!auth.token || !auth.token->empty(), "auth", "token", "must not be empty when set");

  check_range(check, "shutdown", "timeout_ms", shutdown.timeout_ms, 1, 3'600'000);

  check.require(supervision.max_restarts <= 1000, "supervision", "max_restarts",
                "must be <= 1000" + got(supervision.max_restarts));
  check_range(check, "supervision", "restart_window_ms", supervision.restart_window_ms, 1,
              86'400'000);
  check_range(check, "supervision", "restart_backoff_ms", supervision.restart_backoff_ms, 1,
              3'600'000);
  check.require(supervision.max_restart_backoff_ms >= supervision.restart_backoff_ms, "supervision",
                "max_restart_backoff_ms",
                "must be >= restart_backoff_ms (" + std::to_string(supervision.restart_backoff_ms) +
                    ")" + got(supervision.max_restart_backoff_ms));
  check_range(check, "supervision", "max_restart_backoff_ms", supervision.max_restart_backoff_ms, 1,
              3'600'000);

  check.require(!offsets.state_dir.empty(), "offsets", "state_dir", "must not be empty");
  check_range(check, "offsets", "commit_interval_ms", offsets.commit_interval_ms, 0, 3'600'000);

  check_range(check, "sink_buffer", "segment_bytes", sink_buffer.segment_bytes, 64ull << 10,
              1ull << 30);
  check_range(check, "sink_buffer", "max_bytes", sink_buffer.max_bytes, 1ull << 20, 1ull << 40);
  check.require(sink_buffer.max_bytes >= sink_buffer.segment_bytes, "sink_buffer", "max_bytes",
                "must be >= segment_bytes (" + std::to_string(sink_buffer.segment_bytes) + ")" +
                    got(sink_buffer.max_bytes));
}

namespace {

void apply_field(ConnectorConfig& config, const config_fields::Field& field,
                 const std::string& variable, const std::string& value) {
  const config_fields::Where where{variable, display_key(field.section, field.key)};
  field.assign(config, config_fields::from_text(field, value, where), where);
  config.origins[config_fields::origin_key(field.section, field.key)] = variable;
}

}  // namespace

void ConnectorConfig::apply_env_overrides() {
  apply_env_overrides(Environment::process());
}

void ConnectorConfig::apply_env_overrides(const Environment& environment,
                                          const std::vector<std::string>& custom_section_names) {
  // The short names of the seed (and LOG_LEVEL / LOG_FORMAT), then the generic form, which
  // therefore wins.
  const std::pair<std::string_view, const config_fields::Field*> short_names[] = {
      {"DANUBE_SERVICE_URL", config_fields::find("", "danube_service_url")},
      {"CONNECTOR_NAME", config_fields::find("", "connector_name")},
      {"LOG_LEVEL", config_fields::find("processing", "log_level")},
      {"LOG_FORMAT", config_fields::find("processing", "log_format")},
  };
  for (const auto& [variable, field] : short_names) {
    if (const auto value = environment.get(variable)) {
      std::string text = *value;
      if (variable == "LOG_LEVEL" || variable == "LOG_FORMAT") text = lower(text);
      apply_field(*this, *field, std::string(variable), text);
    }
  }

  std::vector<EnvOverride> custom_overrides;
  std::vector<std::string> custom_paths;
  for (const auto& [variable, value] : environment.with_prefix(kGenericPrefix)) {
    const std::string rest = lower(std::string_view(variable).substr(kGenericPrefix.size()));
    std::string section;
    std::string key = rest;
    if (const auto separator = rest.find("__"); separator != std::string::npos) {
      section = rest.substr(0, separator);
      key = rest.substr(separator + 2);
    }
    if (key.empty() || key.find("__") != std::string::npos) {
      throw ConfigError(variable, "",
                        "expected DANUBE_CONNECT__<SECTION>__<KEY> or DANUBE_CONNECT__<KEY>");
    }
    if (const auto* field = config_fields::find(section, key)) {
      apply_field(*this, *field, variable, value);
      continue;
    }
    if (section == "schemas") {
      throw ConfigError(variable, "[[schemas]]",
                        "cannot be set from the environment; use the configuration file");
    }
    const bool shared_with_sdk = std::find(custom_section_names.begin(), custom_section_names.end(),
                                           section) != custom_section_names.end();
    if (config_fields::is_sdk_section(section) && !shared_with_sdk) {
      throw ConfigError(variable, display_key(section, key),
                        "unknown key (known keys: " + config_fields::known_keys(section) + ")");
    }
    const bool custom =
        !section.empty() && (std::find(custom_section_names.begin(), custom_section_names.end(),
                                       section) != custom_section_names.end() ||
                             custom_sections.contains(section));
    if (!custom) {
      throw ConfigError(
          variable, display_key(section, key),
          section.empty() ? "unknown top-level key" : "unknown section [" + section + "]");
    }
    custom_overrides.push_back({variable, value});
    custom_paths.push_back(section + "." + key);
  }

  if (!custom_overrides.empty()) {
    // Sections are immutable views: make a copy of the document with the overrides added.
    auto document = std::make_shared<ConfigDocument>();
    if (const auto* current = ConfigSectionAccess::document(custom_sections)) *document = *current;
    if (document->source_name.empty()) document->source_name = "environment";
    for (std::size_t i = 0; i < custom_overrides.size(); ++i) {
      document->overrides.insert_or_assign(custom_paths[i], custom_overrides[i]);
    }
    custom_sections = ConfigSectionAccess::root(std::move(document));
  }
}

namespace {

void require_core_keys(const ConnectorConfig& config, bool from_environment_only) {
  const std::pair<std::string_view, std::string_view> required[] = {
      {"danube_service_url", "DANUBE_SERVICE_URL"},
      {"connector_name", "CONNECTOR_NAME"},
  };
  for (const auto& [key, variable] : required) {
    if (config.origins.count(std::string(key)) > 0) continue;
    throw ConfigError("", std::string(key),
                      from_environment_only ? std::string(variable) + " is required"
                                            : "missing required key (set it in the file or with " +
                                                  std::string(variable) + ")");
  }
}

}  // namespace

ConnectorConfig ConnectorConfig::from_env() {
  return from_env(Environment::process());
}

ConnectorConfig ConnectorConfig::from_env(const Environment& environment) {
  ConnectorConfig config;
  config.apply_env_overrides(environment);
  require_core_keys(config, true);
  config.validate();
  return config;
}

ConnectorConfig ConnectorConfig::from_file(const std::filesystem::path& path) {
  ConfigLoader loader;
  loader.environment(Environment());  // no overrides: the seed's from_file reads only the file
  return loader.load_file(path);
}

ConnectorConfig ConnectorConfig::load(const std::vector<std::string>& own_sections) {
  ConfigLoader loader;
  for (const auto& section : own_sections)
    loader.allow_section(section);
  return loader.load();
}

std::string ConnectorConfig::dead_letter_topic() const {
  if (!dead_letter.topic.empty()) return dead_letter.topic;
  return "/default/" + connector_name + "-dlq";
}

std::filesystem::path ConnectorConfig::gap_file() const {
  if (!delivery.gap_file.empty()) return delivery.gap_file;
  return offsets.state_dir / (files::safe_file_name(connector_name) + ".gaps.jsonl");
}

std::filesystem::path ConnectorConfig::sink_buffer_directory() const {
  if (!sink_buffer.directory.empty()) return sink_buffer.directory;
  return offsets.state_dir / (files::safe_file_name(connector_name) + ".buffer");
}

const SchemaMapping* ConnectorConfig::schema_for_topic(std::string_view topic) const {
  for (const auto& mapping : schemas) {
    if (mapping.topic == topic) return &mapping;
  }
  return nullptr;
}

ConfigSection ConnectorConfig::section(std::string_view name) const {
  if (auto found = custom_sections.get_section(name)) return std::move(*found);
  throw ConfigError(custom_sections.location(name), "[" + std::string(name) + "]",
                    "missing required section");
}

std::vector<ConfigSection> ConnectorConfig::sections(std::string_view name) const {
  return custom_sections.get_sections(name);
}

std::optional<std::string> ConnectorConfig::resolve_admin_token() const {
  return resolve_admin_token(Environment::process());
}

std::optional<std::string> ConnectorConfig::resolve_admin_token(
    const Environment& environment) const {
  const Checker check(*this);
  // Deliberately no token text in any message: it is a secret.
  if (!http.admin_token_env.empty()) {
    const auto value = environment.get(http.admin_token_env);
    const auto token = value ? trimmed(*value) : std::string();
    check.require(!token.empty(), "http", "admin_token_env",
                  "the environment variable " + http.admin_token_env + " is " +
                      (value ? "empty" : "not set"));
    return token;
  }
  if (!http.admin_token_file) return std::nullopt;
  std::ifstream in(*http.admin_token_file, std::ios::binary);
  check.require(static_cast<bool>(in), "http", "admin_token_file",
                "cannot read " + http.admin_token_file->string());
  const auto token =
      trimmed(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  check.require(!token.empty(), "http", "admin_token_file",
                http.admin_token_file->string() + " is empty");
  return token;
}

std::optional<std::string> AuthSettings::resolve_token() const {
  if (token) return token;
  if (!token_file) return std::nullopt;
  std::ifstream in(*token_file, std::ios::binary);
  if (!in) throw ConfigError("", "[auth] token_file", "cannot read " + token_file->string());
  auto token =
      trimmed(std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>()));
  if (token.empty()) throw ConfigError("", "[auth] token_file", token_file->string() + " is empty");
  return token;
}

std::string ConnectorConfig::describe() const {
  std::string text;
  for (const auto& setting : effective_settings(*this))
    text += (text.empty() ? "" : " ") + setting.key + "=" + setting.value;
  return text;
}

}  // namespace danube::connect
