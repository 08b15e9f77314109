#pragma once

// An MQTT message as a Danube record: the payload by the Rust connectors' rule (JSON, else a
// base64 object), the MQTT metadata as attributes and the route's routing key.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "danube/connect/source_record.hpp"
#include "mqtt_settings.hpp"

namespace danube::source_mqtt {

struct ReceivedMessage {
  std::string_view topic;
  std::string_view payload;
  int qos = 0;
  bool retain = false;
  std::vector<std::pair<std::string, std::string>> user_properties;  // MQTT 5
};

// Attributes (with include_metadata): mqtt.topic, mqtt.qos, mqtt.retain and source = "mqtt",
// as the Rust connector sets them, plus mqtt.user_property.<name> for MQTT 5 user properties.
// libmosquitto does not tell a redelivered message apart, so mqtt.dup is not set.
connect::SourceRecord make_record(const ReceivedMessage& message, const Route& route,
                                  bool include_metadata);

// The routing key `key` picks for `message` (whose record is `record`); empty when the message
// has no such level or field.
std::string routing_key_of(const RoutingKey& key, std::string_view topic,
                           const connect::SourceRecord& record);

}  // namespace danube::source_mqtt
