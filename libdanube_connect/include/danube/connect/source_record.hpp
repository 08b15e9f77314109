#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "danube/connect/offset.hpp"
#include "danube/connect/payload.hpp"
#include "danube/connect/record_context.hpp"
#include "danube/connect/sink_record.hpp"

namespace danube::connect {

// How a SourceRecord's payload was made; schema-aware encoding uses it (a record made by
// from_json can be encoded as Avro or Protobuf, a from_string record as a "string" schema).
enum class ContentKind { raw, text, json, number, bytes };

// A record a source hands to the runtime for publishing.
//
// An empty topic means "the connector's default producer topic" (the first ProducerConfig).
// Copies are cheap: the payload and the JSON value are shared.
class SourceRecord {
 public:
  SourceRecord() = default;
  // Raw payload bytes.
  SourceRecord(std::string topic, Payload payload);

  // UTF-8 text, published as its bytes (not JSON-quoted). Throws ConnectorError(serialization)
  // when `text` is not valid UTF-8.
  static SourceRecord from_string(std::string topic, std::string_view text);
  // A JSON value, published as compact JSON text unless the topic's schema says otherwise.
  // Throws ConnectorError(serialization) when the value cannot be serialized (invalid UTF-8).
  static SourceRecord from_json(std::string topic, const nlohmann::json& value);
  // The seed's name for a record meant for a topic with an Avro schema: like from_json. The
  // runtime encodes it as Avro binary with the topic's `[[schemas]]` schema (the seed sends JSON
  // text); without an Avro schema it is published as JSON text.
  static SourceRecord from_avro(std::string topic, const nlohmann::json& value) {
    return from_json(std::move(topic), value);
  }
  // A number, published as JSON number text ("42", "2.5"). Throws
  // ConnectorError(serialization) for NaN or infinity, which JSON cannot represent.
  template <class Number>
  requires(std::is_arithmetic_v<Number> && !std::is_same_v<Number, bool>) static SourceRecord
      from_number(std::string topic, Number value) {
    if constexpr (std::is_floating_point_v<Number>) {
      return from_double(std::move(topic), static_cast<double>(value));
    } else if constexpr (std::is_signed_v<Number>) {
      return from_int64(std::move(topic), static_cast<std::int64_t>(value));
    } else {
      return from_uint64(std::move(topic), static_cast<std::uint64_t>(value));
    }
  }
  // Raw bytes, published unchanged.
  static SourceRecord from_bytes(std::string topic, std::span<const std::uint8_t> bytes);
  static SourceRecord from_bytes(std::string topic, std::string bytes);

  SourceRecord& with_attribute(std::string name, std::string value) &;
  SourceRecord&& with_attribute(std::string name, std::string value) &&;
  // Adds (and overwrites) attributes.
  SourceRecord& with_attributes(const Attributes& values) &;
  SourceRecord&& with_attributes(const Attributes& values) &&;
  // The routing key: it picks the partition of a partitioned topic (and the consumer of a
  // KeyShared subscription).
  SourceRecord& with_key(std::string key) &;
  SourceRecord&& with_key(std::string key) &&;
  SourceRecord& with_topic(std::string topic) &;
  SourceRecord&& with_topic(std::string topic) &&;

  const std::string& topic() const { return topic_; }
  const Payload& payload() const { return payload_; }
  const Attributes& attributes() const { return attributes_; }
  const std::optional<std::string>& key() const { return key_; }
  ContentKind content_kind() const { return kind_; }
  // The JSON value of a from_json / from_number record; nullptr otherwise.
  const nlohmann::json* json_value() const { return value_.get(); }

  // The seed's contexts: topic, key and attributes (no partition, publish time, producer or
  // schema yet). Views into this record.
  RoutingContext routing_context() const {
    return RoutingContext(topic_, key_ ? std::optional<std::string_view>(*key_) : std::nullopt,
                          std::nullopt, attributes_);
  }
  RecordContext context() const {
    return RecordContext(routing_context(), std::nullopt, std::nullopt, nullptr);
  }

 private:
  static SourceRecord from_double(std::string topic, double value);
  static SourceRecord from_int64(std::string topic, std::int64_t value);
  static SourceRecord from_uint64(std::string topic, std::uint64_t value);

  std::string topic_;
  Payload payload_;
  Attributes attributes_;
  std::optional<std::string> key_;
  ContentKind kind_ = ContentKind::raw;
  std::shared_ptr<const nlohmann::json> value_;
};

// A record plus the source offset it came from (if the source tracks offsets). The runtime
// passes the offsets of published envelopes to `SourceConnector::commit`.
struct SourceEnvelope {
  SourceRecord record;
  std::optional<Offset> offset;

  SourceEnvelope() = default;
  SourceEnvelope(SourceRecord source_record)  // NOLINT: implicit on purpose, like the seed
      : record(std::move(source_record)) {}
  SourceEnvelope(SourceRecord source_record, Offset source_offset)
      : record(std::move(source_record)), offset(std::move(source_offset)) {}
};

}  // namespace danube::connect
