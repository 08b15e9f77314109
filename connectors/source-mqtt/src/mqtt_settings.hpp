#pragma once

// The `[mqtt]` table of connector.toml, read exactly as the Rust danube-source-mqtt reads it
// (same keys, defaults, value spellings and environment variables), plus our own keys, each with
// a default that keeps the Rust behaviour unless it would lose messages.
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "danube/connect/config.hpp"

namespace danube::source_mqtt {

enum class Qos { at_most_once = 0, at_least_once = 1, exactly_once = 2 };

// What becomes the routing key of a Danube message (it picks the partition).
struct RoutingKey {
  enum class Kind { none, mqtt_topic, topic_level, json_pointer };
  Kind kind = Kind::mqtt_topic;
  std::size_t level = 0;     // topic_level: 0-based level of the MQTT topic name
  std::string json_pointer;  // json_pointer: "/device/id" in a JSON payload
};

// One `[[mqtt.routes]]` (or the older `[[mqtt.topic_mappings]]`) entry.
struct Route {
  std::string mqtt_filter;   // from / mqtt_topic
  std::string danube_topic;  // to / danube_topic
  Qos qos = Qos::at_least_once;
  std::size_t partitions = 0;
  bool reliable_dispatch = true;  // default: qos != AtMostOnce
  RoutingKey routing_key;
};

struct TlsSettings {
  bool enabled = false;  // use_tls / MQTT_USE_TLS
  std::optional<std::string> ca_file;
  std::optional<std::string> ca_path;  // default when neither is set: the system's CA directory
  std::optional<std::string> cert_file;
  std::optional<std::string> key_file;
  bool verify_hostname = true;
};

enum class ProtocolVersion { v3_1_1, v5 };

struct MqttSettings {
  std::string broker_host;
  std::uint16_t broker_port = 1883;
  std::string client_id;
  std::optional<std::string> username;
  std::optional<std::string> password;  // never logged
  TlsSettings tls;
  std::chrono::seconds keep_alive{60};
  std::chrono::seconds connection_timeout{30};
  std::size_t max_packet_size = 10 * 1024 * 1024;
  bool clean_session = true;
  bool include_metadata = true;
  bool tcp_nodelay = true;
  std::vector<Route> routes;

  // Our keys.
  ProtocolVersion protocol_version = ProtocolVersion::v3_1_1;
  // QoS 1 and 2: acknowledge a message to the MQTT broker only once Danube stored it (see
  // README "Delivery"); false acknowledges on receipt, faster but a crash loses what is in
  // flight.
  bool ack_after_publish = true;
  std::chrono::milliseconds reconnect_delay{1000};
  std::chrono::milliseconds max_reconnect_delay{30000};

  // Things worth a warning at start (a password written in the file).
  std::vector<std::string> warnings;
};

// Looks up an environment variable (injectable for tests).
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Reads and validates `[mqtt]`. Throws ConfigError naming the key (or the environment
// variable) for anything invalid or unknown.
MqttSettings read_mqtt_settings(const connect::ConnectorConfig& config,
                                const EnvironmentLookup& environment);

std::string_view to_string(Qos qos);
std::string describe(const RoutingKey& key);

}  // namespace danube::source_mqtt
