#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "danube/common/message_id.hpp"
#include "danube/connect/payload.hpp"
#include "danube/connect/record_context.hpp"
#include "danube/connect/schema_type.hpp"

namespace danube::connect {

using danube::Attributes;
using danube::MessageId;

// A message received from Danube, as handed to `SinkConnector::process_batch`.
//
// Copies are cheap (the record's data is shared and immutable). Build one with
// `SinkRecordBuilder`, in tests as in the runtime.
class SinkRecord {
 public:
  // An empty record (no payload, no topic). Mostly useful as a placeholder.
  SinkRecord();

  const Payload& payload() const;

  // The payload as UTF-8 text. Throws ConnectorError(invalid_data) when it is not valid UTF-8.
  // The view lives as long as any copy of this record.
  std::string_view as_string() const;
  // The decoded value when a schema decoded the payload (json_schema, avro, protobuf, ...),
  // otherwise the payload parsed as JSON. Throws ConnectorError(invalid_data) on bad JSON.
  nlohmann::json as_json() const;
  // The payload as a JSON number ("42", "-1.5e3"). Throws ConnectorError(invalid_data).
  double as_number() const;
  // The payload as a JSON integer that fits in int64. Throws ConnectorError(invalid_data).
  std::int64_t as_integer() const;
  std::span<const std::uint8_t> as_bytes() const { return payload().bytes(); }

  // as_json() converted to T through nlohmann's conversions (from_json / adl_serializer,
  // NLOHMANN_DEFINE_TYPE_*), like the seed's as_type::<T>() through serde. Throws
  // ConnectorError(invalid_data) "failed to deserialize to target type: ..." when the value does
  // not fit T, and as as_json() does when the payload is not JSON.
  template <class T>
  T as_type() const {
    const nlohmann::json value = as_json();
    try {
      return value.get<T>();
    } catch (const nlohmann::json::exception& error) {
      throw_type_mismatch(error.what());
    }
  }

  // The value a schema decoded, or nullptr when no schema was applied.
  const nlohmann::json* decoded_value() const;

  const Attributes& attributes() const;
  std::optional<std::string_view> attribute(std::string_view name) const;
  bool has_attribute(std::string_view name) const { return attribute(name).has_value(); }

  // The topic the connector subscribed to (`/ns/orders`), also for partitioned topics.
  const std::string& topic() const;
  // The topic the message came from: `/ns/orders-part-2`, or topic() when not partitioned.
  const std::string& partition_topic() const;
  // 2 for `/ns/orders-part-2`; nullopt for a non-partitioned topic.
  std::optional<std::size_t> partition() const;
  // The message's offset within its partition topic.
  std::uint64_t offset() const;
  const MessageId& message_id() const;
  // Microseconds since the Unix epoch, as the broker stamped it.
  std::uint64_t publish_time_us() const;
  std::chrono::system_clock::time_point publish_time() const;
  const std::string& producer_name() const;
  const std::string& subscription() const;
  const std::optional<std::string>& routing_key() const;
  const std::optional<SchemaInfo>& schema() const;

  // The seed's contexts: topic, routing key, partition index and attributes; plus publish
  // time, producer and schema. Views into this record (valid while any copy of it lives).
  // Unlike the seed's sink records, ours carry the routing key and the partition index.
  RoutingContext routing_context() const;
  RecordContext context() const;

  struct Data;

 private:
  [[noreturn]] static void throw_type_mismatch(const char* what);

  friend class SinkRecordBuilder;
  explicit SinkRecord(std::shared_ptr<const Data> data) : data_(std::move(data)) {}

  std::shared_ptr<const Data> data_;
};

// Builds SinkRecords: the runtime uses it for received messages, connector authors for tests.
//
//   auto record = SinkRecordBuilder()
//                     .topic("/default/orders")
//                     .payload(R"({"id": 7})")
//                     .attribute("source", "test")
//                     .build();
//
// Defaults: partition_topic = topic (or topic = the base of partition_topic), the partition
// index is read from a `-part-N` suffix, message_id.topic_name = partition_topic and
// message_id.topic_offset = offset unless set explicitly.
class SinkRecordBuilder {
 public:
  SinkRecordBuilder();
  ~SinkRecordBuilder();
  SinkRecordBuilder(const SinkRecordBuilder& other);
  SinkRecordBuilder& operator=(const SinkRecordBuilder& other);
  SinkRecordBuilder(SinkRecordBuilder&&) noexcept;
  SinkRecordBuilder& operator=(SinkRecordBuilder&&) noexcept;

  SinkRecordBuilder& payload(Payload bytes);
  SinkRecordBuilder& payload(std::string bytes);
  SinkRecordBuilder& payload(const char* text) { return payload(std::string(text)); }
  // The compact JSON text of `value`.
  SinkRecordBuilder& json_payload(const nlohmann::json& value);
  SinkRecordBuilder& topic(std::string logical_topic);
  SinkRecordBuilder& partition_topic(std::string topic);
  SinkRecordBuilder& offset(std::uint64_t topic_offset);
  SinkRecordBuilder& message_id(MessageId id);
  SinkRecordBuilder& publish_time_us(std::uint64_t micros_since_epoch);
  SinkRecordBuilder& producer_name(std::string name);
  SinkRecordBuilder& subscription(std::string name);
  SinkRecordBuilder& routing_key(std::string key);
  SinkRecordBuilder& attribute(std::string name, std::string value);
  SinkRecordBuilder& attributes(Attributes values);
  SinkRecordBuilder& schema(SchemaInfo info);
  SinkRecordBuilder& decoded_value(nlohmann::json value);
  SinkRecordBuilder& decoded_value(std::shared_ptr<const nlohmann::json> value);

  // The payload set so far (the runtime's decoder reads it).
  const Payload& current_payload() const;

  // The builder may be reused afterwards; it keeps its settings.
  SinkRecord build() const&;
  // The same without copying: the settings move into the record, and the builder is left
  // with unspecified ones (a record per message, as the runtime builds them).
  SinkRecord build() &&;

 private:
  std::unique_ptr<SinkRecord::Data> data_;
  bool message_id_set_ = false;
};

}  // namespace danube::connect
