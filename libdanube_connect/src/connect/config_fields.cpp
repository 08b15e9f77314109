#include "config_fields.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

#include "config_document.hpp"
#include "danube/connect/config_error.hpp"

namespace danube::connect::config_fields {

namespace {

[[noreturn]] void fail(const Where& where, std::string problem) {
  throw ConfigError(where.location, where.key, std::move(problem));
}

template <class T>
T to_unsigned(const Scalar& value, const Where& where) {
  const auto number = std::get<std::int64_t>(value);
  if (number < 0) fail(where, "must be >= 0 (got " + std::to_string(number) + ")");
  if (static_cast<std::uint64_t>(number) > std::numeric_limits<T>::max()) {
    fail(where, "must be <= " + std::to_string(std::numeric_limits<T>::max()) + " (got " +
                    std::to_string(number) + ")");
  }
  return static_cast<T>(number);
}

double to_double(const Scalar& value) {
  return std::get<double>(value);
}
bool to_bool(const Scalar& value) {
  return std::get<bool>(value);
}
const std::string& to_text(const Scalar& value) {
  return std::get<std::string>(value);
}

template <class Enum, std::size_t N>
Enum to_enum(const Scalar& value, const Where& where,
             const std::pair<std::string_view, Enum> (&choices)[N]) {
  const std::string& text = to_text(value);
  for (const auto& [name, choice] : choices) {
    if (text == name) return choice;
  }
  std::string list;
  for (const auto& [name, choice] : choices) {
    list += (list.empty() ? "\"" : ", \"") + std::string(name) + "\"";
  }
  fail(where, "must be one of " + list + " (got " + quote_excerpt(text) + ")");
}

constexpr std::pair<std::string_view, DeadLetterPolicy> kPolicies[] = {
    {"dead_letter", DeadLetterPolicy::dead_letter},
    {"fail", DeadLetterPolicy::fail},
    {"skip", DeadLetterPolicy::skip},
};
constexpr std::pair<std::string_view, Ordering> kOrderings[] = {
    {"strict", Ordering::strict},
    {"relaxed", Ordering::relaxed},
};
constexpr std::pair<std::string_view, OnGap> kOnGap[] = {
    {"report", OnGap::report},
    {"fail", OnGap::fail},
};
constexpr std::pair<std::string_view, OnFatal> kOnFatal[] = {
    {"exit", OnFatal::exit},
    {"restart", OnFatal::restart},
};
constexpr std::pair<std::string_view, LogFormat> kLogFormats[] = {
    {"text", LogFormat::text},
    {"json", LogFormat::json},
};

using VK = ValueKind;

// Captureless lambdas convert to the plain function pointer Field::assign.
#define DANUBE_ASSIGN(body)                                 \
  [](ConnectorConfig& c, const Scalar& v, const Where& w) { \
    (void)w;                                                \
    body;                                                   \
  }

const std::vector<Field> kFields = {
    {"", "danube_service_url", VK::string, DANUBE_ASSIGN(c.danube_service_url = to_text(v))},
    {"", "connector_name", VK::string, DANUBE_ASSIGN(c.connector_name = to_text(v))},

    {"retry", "max_retries", VK::integer,
     DANUBE_ASSIGN(c.retry.max_retries = to_unsigned<std::uint32_t>(v, w))},
    {"retry", "retry_backoff_ms", VK::integer,
     DANUBE_ASSIGN(c.retry.retry_backoff_ms = to_unsigned<std::uint64_t>(v, w))},
    {"retry", "max_backoff_ms", VK::integer,
     DANUBE_ASSIGN(c.retry.max_backoff_ms = to_unsigned<std::uint64_t>(v, w))},
    {"retry", "multiplier", VK::floating, DANUBE_ASSIGN(c.retry.multiplier = to_double(v))},
    {"retry", "jitter", VK::boolean, DANUBE_ASSIGN(c.retry.jitter = to_bool(v))},

    {"processing", "batch_size", VK::integer,
     DANUBE_ASSIGN(c.processing.batch_size = to_unsigned<std::size_t>(v, w))},
    {"processing", "batch_timeout_ms", VK::integer,
     DANUBE_ASSIGN(c.processing.batch_timeout_ms = to_unsigned<std::uint64_t>(v, w))},
    {"processing", "poll_interval_ms", VK::integer,
     DANUBE_ASSIGN(c.processing.poll_interval_ms = to_unsigned<std::uint64_t>(v, w))},
    {"processing", "metrics_port", VK::integer,
     DANUBE_ASSIGN(c.processing.metrics_port = to_unsigned<std::uint16_t>(v, w))},
    {"processing", "log_level", VK::string, DANUBE_ASSIGN(c.processing.log_level = to_text(v))},
    {"processing", "log_format", VK::string,
     DANUBE_ASSIGN(c.processing.log_format = to_enum(v, w, kLogFormats))},
    {"processing", "health_check_interval_ms", VK::integer,
     DANUBE_ASSIGN(c.processing.health_check_interval_ms = to_unsigned<std::uint64_t>(v, w))},
    {"processing", "health_check_failure_threshold", VK::integer,
     DANUBE_ASSIGN(c.processing.health_check_failure_threshold = to_unsigned<std::uint32_t>(v, w))},

    {"dead_letter", "policy", VK::string,
     DANUBE_ASSIGN(c.dead_letter.policy = to_enum(v, w, kPolicies))},
    {"dead_letter", "topic", VK::string, DANUBE_ASSIGN(c.dead_letter.topic = to_text(v))},

    {"delivery", "max_inflight_records", VK::integer,
     DANUBE_ASSIGN(c.delivery.max_inflight_records = to_unsigned<std::size_t>(v, w))},
    {"delivery", "max_inflight_bytes", VK::integer,
     DANUBE_ASSIGN(c.delivery.max_inflight_bytes = to_unsigned<std::uint64_t>(v, w))},
    {"delivery", "ordering", VK::string,
     DANUBE_ASSIGN(c.delivery.ordering = to_enum(v, w, kOrderings))},
    {"delivery", "max_inflight_sends", VK::integer,
     DANUBE_ASSIGN(c.delivery.max_inflight_sends = to_unsigned<std::uint32_t>(v, w))},
    {"delivery", "max_inflight_acks", VK::integer,
     DANUBE_ASSIGN(c.delivery.max_inflight_acks = to_unsigned<std::uint32_t>(v, w))},
    {"delivery", "on_gap", VK::string, DANUBE_ASSIGN(c.delivery.on_gap = to_enum(v, w, kOnGap))},
    {"delivery", "gap_file", VK::string, DANUBE_ASSIGN(c.delivery.gap_file = to_text(v))},
    {"delivery", "gap_file_max_bytes", VK::integer,
     DANUBE_ASSIGN(c.delivery.gap_file_max_bytes = to_unsigned<std::uint64_t>(v, w))},
    {"delivery", "gap_file_keep", VK::integer,
     DANUBE_ASSIGN(c.delivery.gap_file_keep = to_unsigned<std::uint32_t>(v, w))},

    {"http", "enabled", VK::boolean, DANUBE_ASSIGN(c.http.enabled = to_bool(v))},
    {"http", "bind_address", VK::string, DANUBE_ASSIGN(c.http.bind_address = to_text(v))},
    {"http", "admin_token_env", VK::string, DANUBE_ASSIGN(c.http.admin_token_env = to_text(v))},
    {"http", "admin_token_file", VK::string, DANUBE_ASSIGN(c.http.admin_token_file = to_text(v))},

    {"auth", "tls_ca_file", VK::string, DANUBE_ASSIGN(c.auth.tls_ca_file = to_text(v))},
    {"auth", "tls_cert_file", VK::string, DANUBE_ASSIGN(c.auth.tls_cert_file = to_text(v))},
    {"auth", "tls_key_file", VK::string, DANUBE_ASSIGN(c.auth.tls_key_file = to_text(v))},
    {"auth", "token", VK::string, DANUBE_ASSIGN(c.auth.token = to_text(v))},
    {"auth", "token_file", VK::string, DANUBE_ASSIGN(c.auth.token_file = to_text(v))},

    {"shutdown", "timeout_ms", VK::integer,
     DANUBE_ASSIGN(c.shutdown.timeout_ms = to_unsigned<std::uint64_t>(v, w))},

    {"supervision", "on_fatal", VK::string,
     DANUBE_ASSIGN(c.supervision.on_fatal = to_enum(v, w, kOnFatal))},
    {"supervision", "max_restarts", VK::integer,
     DANUBE_ASSIGN(c.supervision.max_restarts = to_unsigned<std::uint32_t>(v, w))},
    {"supervision", "restart_window_ms", VK::integer,
     DANUBE_ASSIGN(c.supervision.restart_window_ms = to_unsigned<std::uint64_t>(v, w))},
    {"supervision", "restart_backoff_ms", VK::integer,
     DANUBE_ASSIGN(c.supervision.restart_backoff_ms = to_unsigned<std::uint64_t>(v, w))},
    {"supervision", "max_restart_backoff_ms", VK::integer,
     DANUBE_ASSIGN(c.supervision.max_restart_backoff_ms = to_unsigned<std::uint64_t>(v, w))},

    {"offsets", "state_dir", VK::string, DANUBE_ASSIGN(c.offsets.state_dir = to_text(v))},
    {"offsets", "commit_interval_ms", VK::integer,
     DANUBE_ASSIGN(c.offsets.commit_interval_ms = to_unsigned<std::uint64_t>(v, w))},

    {"sink_buffer", "enabled", VK::boolean, DANUBE_ASSIGN(c.sink_buffer.enabled = to_bool(v))},
    {"sink_buffer", "max_bytes", VK::integer,
     DANUBE_ASSIGN(c.sink_buffer.max_bytes = to_unsigned<std::uint64_t>(v, w))},
    {"sink_buffer", "segment_bytes", VK::integer,
     DANUBE_ASSIGN(c.sink_buffer.segment_bytes = to_unsigned<std::uint64_t>(v, w))},
    {"sink_buffer", "directory", VK::string, DANUBE_ASSIGN(c.sink_buffer.directory = to_text(v))},
};

#undef DANUBE_ASSIGN

std::string_view kind_word(ValueKind kind) {
  switch (kind) {
    case ValueKind::integer:
      return "an integer";
    case ValueKind::floating:
      return "a number";
    case ValueKind::boolean:
      return "a boolean";
    case ValueKind::string:
      return "a string";
  }
  return "a value";
}

}  // namespace

const std::vector<Field>& all() {
  return kFields;
}

const Field* find(std::string_view section, std::string_view key) {
  for (const auto& field : kFields) {
    if (field.section == section && field.key == key) return &field;
  }
  return nullptr;
}

bool is_sdk_section(std::string_view name) {
  if (name.empty()) return false;
  if (name == "schemas") return true;
  return std::any_of(kFields.begin(), kFields.end(),
                     [&](const Field& field) { return field.section == name; });
}

bool ignored_for_compatibility(std::string_view section, std::string_view key) {
  return section == "retry" && (key == "initial_interval_ms" || key == "max_interval_ms");
}

std::string known_keys(std::string_view section) {
  std::string list;
  for (const auto& field : kFields) {
    if (field.section != section) continue;
    list += (list.empty() ? "" : ", ") + std::string(field.key);
  }
  return list;
}

std::string origin_key(std::string_view section, std::string_view key) {
  return section.empty() ? std::string(key) : std::string(section) + "." + std::string(key);
}

Scalar from_node(const Field& field, const toml::node& node, const Where& where) {
  switch (field.kind) {
    case ValueKind::integer:
      if (const auto value = node.value_exact<std::int64_t>()) return *value;
      break;
    case ValueKind::floating:
      if (const auto value = node.value_exact<double>()) {
        if (!std::isfinite(*value)) fail(where, "must be a finite number");
        return *value;
      }
      if (const auto value = node.value_exact<std::int64_t>()) return static_cast<double>(*value);
      break;
    case ValueKind::boolean:
      if (const auto value = node.value_exact<bool>()) return *value;
      break;
    case ValueKind::string:
      if (const auto value = node.value_exact<std::string>()) return *value;
      break;
  }
  fail(where,
       "expected " + std::string(kind_word(field.kind)) + " (got " + describe_node(node) + ")");
}

Scalar from_text(const Field& field, std::string_view text, const Where& where) {
  const char* begin = text.data();
  const char* end = text.data() + text.size();
  switch (field.kind) {
    case ValueKind::integer: {
      std::int64_t value = 0;
      const auto [stop, error] = std::from_chars(begin, end, value);
      if (text.empty() || error != std::errc() || stop != end) break;
      return value;
    }
    case ValueKind::floating: {
      double value = 0;
      const auto [stop, error] = std::from_chars(begin, end, value);
      if (text.empty() || error != std::errc() || stop != end || !std::isfinite(value)) break;
      return value;
    }
    case ValueKind::boolean: {
      std::string lower(text);
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower == "true" || lower == "1") return true;
      if (lower == "false" || lower == "0") return false;
      break;
    }
    case ValueKind::string:
      return std::string(text);
  }
  fail(where,
       "expected " + std::string(kind_word(field.kind)) + " (got " + quote_excerpt(text) + ")");
}

namespace {

std::string entry_location(const std::string& source_name, const toml::source_region& region) {
  if (region.begin.line == 0) return source_name;
  return source_name + ":" + std::to_string(region.begin.line);
}

}  // namespace

SchemaMapping parse_schema_entry(const toml::table& entry, std::size_t index,
                                 const std::string& source_name,
                                 std::map<std::string, std::string, std::less<>>& origins) {
  const std::string section = "schemas[" + std::to_string(index) + "]";
  SchemaMapping mapping;
  std::optional<std::string> schema_type_text;
  bool has_topic = false;
  bool has_subject = false;

  for (const auto& [key_node, node] : entry) {
    const std::string key(key_node.str());
    const auto& region = key_node.source().begin.line != 0 ? key_node.source() : node.source();
    const Where where{entry_location(source_name, region), display_key(section, key)};
    origins[section + "." + key] = where.location;
    // A plain reference for the lambda: clang 14 (the fuzz preset) cannot capture a binding.
    const toml::node& value_node = node;
    const auto text = [&]() -> std::string {
      if (const auto value = value_node.value_exact<std::string>()) return *value;
      fail(where, "expected a string (got " + describe_node(value_node) + ")");
    };
    if (key == "topic") {
      mapping.topic = text();
      has_topic = true;
    } else if (key == "subject") {
      mapping.schema.subject = text();
      has_subject = true;
    } else if (key == "schema_type") {
      schema_type_text = text();
      const auto type = parse_schema_type(*schema_type_text);
      if (!type) {
        fail(where,
             "must be one of \"json_schema\", \"json\", \"string\", \"number\", \"bytes\", "
             "\"avro\", \"protobuf\" (or Danube's aliases \"int64\", \"int\", \"float\", "
             "\"double\", \"proto\") (got " +
                 quote_excerpt(*schema_type_text) + ")");
      }
      mapping.schema.schema_type = *type;
    } else if (key == "schema_file") {
      mapping.schema.schema_file = text();
    } else if (key == "message_type") {
      mapping.schema.message_type = text();
    } else if (key == "auto_register") {
      const auto value = node.value_exact<bool>();
      if (!value) fail(where, "expected a boolean (got " + describe_node(node) + ")");
      mapping.schema.auto_register = *value;
    } else if (key == "version_strategy") {
      if (const auto value = node.value_exact<std::string>()) {
        if (*value != "latest") {
          fail(where, "must be \"latest\", { pinned = N } or { minimum = N } (got " +
                          quote_excerpt(*value) + ")");
        }
        mapping.schema.version_strategy = VersionStrategy::latest();
      } else if (const auto* table = node.as_table()) {
        if (table->size() != 1) {
          fail(where, "must be \"latest\", { pinned = N } or { minimum = N } (got a table with " +
                          std::to_string(table->size()) + " keys)");
        }
        const auto entry = table->cbegin();
        const toml::key& strategy_key = entry->first;
        const toml::node& strategy_node = entry->second;
        const auto version = strategy_node.value_exact<std::int64_t>();
        if (!version || *version < 1 || *version > std::numeric_limits<std::uint32_t>::max()) {
          fail(where,
               "the version must be an integer >= 1 (got " + describe_node(strategy_node) + ")");
        }
        const auto number = static_cast<std::uint32_t>(*version);
        if (strategy_key.str() == "pinned") {
          mapping.schema.version_strategy = VersionStrategy::pinned(number);
        } else if (strategy_key.str() == "minimum") {
          mapping.schema.version_strategy = VersionStrategy::minimum(number);
        } else {
          fail(where, "must be \"latest\", { pinned = N } or { minimum = N } (got key '" +
                          std::string(strategy_key.str()) + "')");
        }
      } else {
        fail(where, "must be \"latest\", { pinned = N } or { minimum = N } (got " +
                        describe_node(node) + ")");
      }
    } else {
      fail(where,
           "unknown key (known keys: topic, subject, schema_type, schema_file, auto_register, "
           "version_strategy, message_type)");
    }
  }

  const Where entry_where{entry_location(source_name, entry.source()), display_key(section, "")};
  origins[section] = entry_where.location;
  if (!has_topic)
    fail({entry_where.location, display_key(section, "topic")}, "missing required key");
  if (!has_subject) {
    fail({entry_where.location, display_key(section, "subject")}, "missing required key");
  }
  if (!schema_type_text) {
    fail({entry_where.location, display_key(section, "schema_type")}, "missing required key");
  }
  return mapping;
}

}  // namespace danube::connect::config_fields
