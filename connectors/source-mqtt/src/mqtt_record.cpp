#include "mqtt_record.hpp"

#include <nlohmann/json.hpp>

#include "payload_rule.hpp"

namespace danube::source_mqtt {

std::string routing_key_of(const RoutingKey& key, std::string_view topic,
                           const connect::SourceRecord& record) {
  switch (key.kind) {
    case RoutingKey::Kind::none:
      return {};
    case RoutingKey::Kind::mqtt_topic:
      return std::string(topic);
    case RoutingKey::Kind::topic_level: {
      std::size_t start = 0;
      for (std::size_t level = 0; level < key.level; ++level) {
        const auto slash = topic.find('/', start);
        if (slash == std::string_view::npos) return {};
        start = slash + 1;
      }
      const auto end = topic.find('/', start);
      return std::string(topic.substr(start, end == std::string_view::npos ? end : end - start));
    }
    case RoutingKey::Kind::json_pointer: {
      const nlohmann::json* value = record.json_value();
      if (!value) return {};
      const nlohmann::json::json_pointer pointer(key.json_pointer);
      if (!value->contains(pointer)) return {};
      const auto& field = (*value)[pointer];
      if (field.is_string()) return field.get<std::string>();
      if (field.is_null() || field.is_object() || field.is_array()) return {};
      return field.dump();
    }
  }
  return {};
}

connect::SourceRecord make_record(const ReceivedMessage& message, const Route& route,
                                  bool include_metadata) {
  auto record = connectors::json_or_base64_record(route.danube_topic, message.payload);
  if (include_metadata) {
    record.with_attribute("mqtt.topic", std::string(message.topic))
        .with_attribute("mqtt.qos", std::to_string(message.qos))
        .with_attribute("mqtt.retain", message.retain ? "true" : "false")
        .with_attribute("source", "mqtt");
    for (const auto& [name, value] : message.user_properties)
      record.with_attribute("mqtt.user_property." + name, value);
  }
  auto key = routing_key_of(route.routing_key, message.topic, record);
  if (!key.empty()) record.with_key(std::move(key));
  return record;
}

}  // namespace danube::source_mqtt
