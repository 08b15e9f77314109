#include "mqtt_settings.hpp"

#include <charconv>
#include <nlohmann/json.hpp>

#include "danube/connect/config_error.hpp"
#include "secrets.hpp"
#include "topic_filter.hpp"

namespace danube::source_mqtt {

namespace {

using connect::ConfigError;
using connect::ConfigSection;

const std::vector<std::string> kMqttKeys = {
    // The Rust connector's keys.
    "broker_host", "broker_port", "client_id", "username", "password", "use_tls", "keep_alive_secs",
    "connection_timeout_secs", "max_packet_size", "routes", "topic_mappings", "clean_session",
    "include_metadata", "tcp_nodelay",
    // Ours.
    "password_file", "protocol_version", "ack_after_publish", "reconnect_delay_ms",
    "max_reconnect_delay_ms", "tls_ca_file", "tls_ca_path", "tls_cert_file", "tls_key_file",
    "tls_verify_hostname"};

const std::vector<std::string> kRouteKeys = {
    "from", "to",         "mqtt_topic",        "danube_topic",
    "qos",  "partitions", "reliable_dispatch", "routing_key"};

// The Rust connector's QoS spellings (serde enum names); 0, 1 and 2 are accepted too.
Qos read_qos(const ConfigSection& route) {
  if (!route.contains("qos")) return Qos::at_least_once;
  std::optional<std::string> text;
  try {
    text = route.get_string("qos");
  } catch (const ConfigError&) {
    const auto level = route.get_integer("qos", 1, 0, 2);
    return static_cast<Qos>(level);
  }
  if (*text == "AtMostOnce") return Qos::at_most_once;
  if (*text == "AtLeastOnce") return Qos::at_least_once;
  if (*text == "ExactlyOnce") return Qos::exactly_once;
  route.fail("qos",
             "must be \"AtMostOnce\", \"AtLeastOnce\" or \"ExactlyOnce\" (or 0, 1, 2); got \"" +
                 *text + "\"");
}

RoutingKey read_routing_key(const ConfigSection& route, bool include_metadata) {
  RoutingKey key;
  key.kind = include_metadata ? RoutingKey::Kind::mqtt_topic : RoutingKey::Kind::none;
  const auto text = route.get_string("routing_key");
  if (!text) return key;
  const std::string_view value = *text;
  if (value == "none") {
    key.kind = RoutingKey::Kind::none;
  } else if (value == "mqtt_topic") {
    key.kind = RoutingKey::Kind::mqtt_topic;
  } else if (value.starts_with("topic_level:")) {
    const auto digits = value.substr(12);
    std::size_t level = 0;
    const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), level);
    if (digits.empty() || error != std::errc() || end != digits.data() + digits.size()) {
      route.fail("routing_key", "topic_level needs a level number (\"topic_level:1\")");
    }
    key.kind = RoutingKey::Kind::topic_level;
    key.level = level;
  } else if (value.starts_with("json:")) {
    key.kind = RoutingKey::Kind::json_pointer;
    key.json_pointer = std::string(value.substr(5));
    if (key.json_pointer.empty() || key.json_pointer.front() != '/') {
      route.fail("routing_key", "json needs a JSON pointer (\"json:/device/id\")");
    }
    try {
      (void)nlohmann::json::json_pointer(key.json_pointer);
    } catch (const nlohmann::json::exception& error) {
      route.fail("routing_key", std::string("not a JSON pointer: ") + error.what());
    }
  } else {
    route.fail(
        "routing_key",
        "must be \"none\", \"mqtt_topic\", \"topic_level:<n>\" or \"json:<pointer>\" (got \"" +
            std::string(value) + "\")");
  }
  return key;
}

// `[[mqtt.routes]]` spells the two ends from/to; the older `[[mqtt.topic_mappings]]`
// mqtt_topic/danube_topic. Either name is accepted in either table.
std::string read_end(const ConfigSection& route, std::string_view name, std::string_view legacy) {
  if (route.contains(name) && route.contains(legacy)) {
    route.fail(legacy,
               "set either '" + std::string(name) + "' or '" + std::string(legacy) + "', not both");
  }
  return std::string(route.contains(name) ? name : legacy);
}

Route read_route(const ConfigSection& entry, bool include_metadata) {
  entry.reject_unknown_keys(kRouteKeys);
  Route route;
  const auto from_key = read_end(entry, "from", "mqtt_topic");
  route.mqtt_filter = entry.require_string(from_key);
  if (const auto problem = topic_filter_problem(route.mqtt_filter)) {
    entry.fail(from_key, *problem + " (got \"" + route.mqtt_filter + "\")");
  }
  route.danube_topic = entry.require_topic(read_end(entry, "to", "danube_topic"));
  route.qos = read_qos(entry);
  route.partitions = static_cast<std::size_t>(entry.get_integer("partitions", 0, 0, 10'000));
  route.reliable_dispatch = entry.get_bool("reliable_dispatch", route.qos != Qos::at_most_once);
  route.routing_key = read_routing_key(entry, include_metadata);
  return route;
}

// The Rust connector's environment variables; a value that does not parse is an error naming
// the variable (the Rust connector ignores it silently).
std::uint16_t parse_port(std::string_view variable, const std::string& text) {
  unsigned value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value == 0 ||
      value > 65535) {
    throw ConfigError(std::string(variable), "[mqtt] broker_port",
                      "expected a port number 1-65535 (got \"" + text + "\")");
  }
  return static_cast<std::uint16_t>(value);
}

bool parse_bool(std::string_view variable, std::string_view key, const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  throw ConfigError(std::string(variable), std::string(key),
                    "expected true or false (got \"" + text + "\")");
}

}  // namespace

MqttSettings read_mqtt_settings(const connect::ConnectorConfig& config,
                                const EnvironmentLookup& environment) {
  const ConfigSection mqtt = config.section("mqtt");
  mqtt.reject_unknown_keys(kMqttKeys);
  MqttSettings settings;

  if (const auto host = environment("MQTT_BROKER_HOST")) {
    settings.broker_host = *host;
  } else {
    settings.broker_host = mqtt.require_string("broker_host");
  }
  if (settings.broker_host.empty()) mqtt.fail("broker_host", "must not be empty");
  if (const auto port = environment("MQTT_BROKER_PORT")) {
    settings.broker_port = parse_port("MQTT_BROKER_PORT", *port);
  } else {
    settings.broker_port =
        static_cast<std::uint16_t>(mqtt.get_integer("broker_port", 1883, 1, 65535));
  }
  if (const auto client_id = environment("MQTT_CLIENT_ID")) {
    settings.client_id = *client_id;
  } else {
    settings.client_id = mqtt.require_string("client_id");
  }
  if (settings.client_id.empty()) mqtt.fail("client_id", "must not be empty");

  settings.username = environment("MQTT_USERNAME");
  if (!settings.username) settings.username = mqtt.get_string("username");
  if (mqtt.contains("password") && mqtt.contains("password_file")) {
    mqtt.fail("password_file", "set either 'password' or 'password_file', not both");
  }
  settings.password = environment("MQTT_PASSWORD");
  if (!settings.password) settings.password = connectors::secret_from_file(mqtt, "password_file");
  if (!settings.password && mqtt.contains("password")) {
    settings.password = mqtt.get_string("password");
    settings.warnings.push_back(mqtt.location("password") +
                                ": [mqtt] password is written in the configuration file; prefer "
                                "the MQTT_PASSWORD variable or [mqtt] password_file");
  }
  if (settings.password && !settings.username) {
    mqtt.fail("username", "a password is set (MQTT_PASSWORD or [mqtt] password) but no username");
  }

  if (const auto use_tls = environment("MQTT_USE_TLS")) {
    settings.tls.enabled = parse_bool("MQTT_USE_TLS", "[mqtt] use_tls", *use_tls);
  } else {
    settings.tls.enabled = mqtt.get_bool("use_tls", false);
  }
  settings.tls.ca_file = mqtt.get_string("tls_ca_file");
  settings.tls.ca_path = mqtt.get_string("tls_ca_path");
  settings.tls.cert_file = mqtt.get_string("tls_cert_file");
  settings.tls.key_file = mqtt.get_string("tls_key_file");
  settings.tls.verify_hostname = mqtt.get_bool("tls_verify_hostname", true);
  if (settings.tls.cert_file.has_value() != settings.tls.key_file.has_value()) {
    mqtt.fail(settings.tls.cert_file ? "tls_key_file" : "tls_cert_file",
              "a client certificate needs both tls_cert_file and tls_key_file");
  }
  const bool tls_files = settings.tls.ca_file || settings.tls.ca_path || settings.tls.cert_file;
  if (tls_files && !settings.tls.enabled) {
    mqtt.fail("use_tls", "TLS files are configured but use_tls is false");
  }
  if (!settings.tls.enabled && !mqtt.get_bool("tls_verify_hostname", true)) {
    mqtt.fail("tls_verify_hostname", "has no effect without use_tls = true");
  }

  settings.keep_alive = std::chrono::seconds(mqtt.get_integer("keep_alive_secs", 60, 5, 65535));
  settings.connection_timeout =
      std::chrono::seconds(mqtt.get_integer("connection_timeout_secs", 30, 1, 3600));
  settings.max_packet_size = static_cast<std::size_t>(
      mqtt.get_integer("max_packet_size", 10 * 1024 * 1024, 1024, 268'435'455));
  settings.clean_session = mqtt.get_bool("clean_session", true);
  settings.include_metadata = mqtt.get_bool("include_metadata", true);
  settings.tcp_nodelay = mqtt.get_bool("tcp_nodelay", true);

  const auto protocol = mqtt.get_string("protocol_version", "3.1.1");
  if (protocol == "3.1.1") {
    settings.protocol_version = ProtocolVersion::v3_1_1;
  } else if (protocol == "5") {
    settings.protocol_version = ProtocolVersion::v5;
  } else {
    mqtt.fail("protocol_version", "must be \"3.1.1\" or \"5\" (got \"" + protocol + "\")");
  }
  settings.ack_after_publish = mqtt.get_bool("ack_after_publish", true);
  settings.reconnect_delay =
      std::chrono::milliseconds(mqtt.get_integer("reconnect_delay_ms", 1000, 100, 3'600'000));
  settings.max_reconnect_delay =
      std::chrono::milliseconds(mqtt.get_integer("max_reconnect_delay_ms", 30'000, 100, 3'600'000));
  if (settings.max_reconnect_delay < settings.reconnect_delay) {
    mqtt.fail("max_reconnect_delay_ms", "must not be below reconnect_delay_ms");
  }

  if (mqtt.contains("routes") && mqtt.contains("topic_mappings")) {
    mqtt.fail("topic_mappings", "set either [[mqtt.routes]] or [[mqtt.topic_mappings]], not both");
  }
  const auto entries =
      mqtt.get_sections(mqtt.contains("topic_mappings") ? "topic_mappings" : "routes");
  if (entries.empty()) {
    mqtt.fail("routes", "at least one route is required ([[mqtt.routes]] with from and to)");
  }
  for (const auto& entry : entries)
    settings.routes.push_back(read_route(entry, settings.include_metadata));
  return settings;
}

std::string_view to_string(Qos qos) {
  switch (qos) {
    case Qos::at_most_once:
      return "AtMostOnce";
    case Qos::at_least_once:
      return "AtLeastOnce";
    case Qos::exactly_once:
      return "ExactlyOnce";
  }
  return "?";
}

std::string describe(const RoutingKey& key) {
  switch (key.kind) {
    case RoutingKey::Kind::none:
      return "none";
    case RoutingKey::Kind::mqtt_topic:
      return "mqtt_topic";
    case RoutingKey::Kind::topic_level:
      return "topic_level:" + std::to_string(key.level);
    case RoutingKey::Kind::json_pointer:
      return "json:" + key.json_pointer;
  }
  return "?";
}

}  // namespace danube::source_mqtt
