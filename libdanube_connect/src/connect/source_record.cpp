#include "danube/connect/source_record.hpp"

#include <nlohmann/json.hpp>

#include "danube/connect/error.hpp"
#include "danube/connect/serialization.hpp"

namespace danube::connect {

SourceRecord::SourceRecord(std::string topic, Payload payload)
    : topic_(std::move(topic)), payload_(std::move(payload)) {}

SourceRecord SourceRecord::from_string(std::string topic, std::string_view text) {
  if (!serialization::is_valid_utf8(text)) {
    throw ConnectorError::serialization("from_string: text is not valid UTF-8 (" +
                                        std::to_string(text.size()) + " bytes)");
  }
  SourceRecord record(std::move(topic), Payload(std::string(text)));
  record.kind_ = ContentKind::text;
  return record;
}

SourceRecord SourceRecord::from_json(std::string topic, const nlohmann::json& value) {
  SourceRecord record(std::move(topic), Payload(serialization::json_to_bytes(value)));
  record.kind_ = ContentKind::json;
  record.value_ = std::make_shared<const nlohmann::json>(value);
  return record;
}

SourceRecord SourceRecord::from_double(std::string topic, double value) {
  SourceRecord record(std::move(topic), Payload(serialization::number_to_bytes(value)));
  record.kind_ = ContentKind::number;
  record.value_ = std::make_shared<const nlohmann::json>(value);
  return record;
}

SourceRecord SourceRecord::from_int64(std::string topic, std::int64_t value) {
  SourceRecord record(std::move(topic), Payload(serialization::number_to_bytes(value)));
  record.kind_ = ContentKind::number;
  record.value_ = std::make_shared<const nlohmann::json>(value);
  return record;
}

SourceRecord SourceRecord::from_uint64(std::string topic, std::uint64_t value) {
  SourceRecord record(std::move(topic), Payload(serialization::number_to_bytes(value)));
  record.kind_ = ContentKind::number;
  record.value_ = std::make_shared<const nlohmann::json>(value);
  return record;
}

SourceRecord SourceRecord::from_bytes(std::string topic, std::span<const std::uint8_t> bytes) {
  SourceRecord record(std::move(topic), Payload(bytes));
  record.kind_ = ContentKind::bytes;
  return record;
}

SourceRecord SourceRecord::from_bytes(std::string topic, std::string bytes) {
  SourceRecord record(std::move(topic), Payload(std::move(bytes)));
  record.kind_ = ContentKind::bytes;
  return record;
}

SourceRecord& SourceRecord::with_attribute(std::string name, std::string value) & {
  attributes_.insert_or_assign(std::move(name), std::move(value));
  return *this;
}

SourceRecord&& SourceRecord::with_attribute(std::string name, std::string value) && {
  return std::move(with_attribute(std::move(name), std::move(value)));
}

SourceRecord& SourceRecord::with_attributes(const Attributes& values) & {
  for (const auto& [name, value] : values)
    attributes_.insert_or_assign(name, value);
  return *this;
}

SourceRecord&& SourceRecord::with_attributes(const Attributes& values) && {
  return std::move(with_attributes(values));
}

SourceRecord& SourceRecord::with_key(std::string key) & {
  key_ = std::move(key);
  return *this;
}

SourceRecord&& SourceRecord::with_key(std::string key) && {
  return std::move(with_key(std::move(key)));
}

SourceRecord& SourceRecord::with_topic(std::string topic) & {
  topic_ = std::move(topic);
  return *this;
}

SourceRecord&& SourceRecord::with_topic(std::string topic) && {
  return std::move(with_topic(std::move(topic)));
}

}  // namespace danube::connect
