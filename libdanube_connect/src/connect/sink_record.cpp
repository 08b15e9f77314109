#include "danube/connect/sink_record.hpp"

#include <limits>
#include <nlohmann/json.hpp>

#include "danube/common/topic_name.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/serialization.hpp"

namespace danube::connect {

struct SinkRecord::Data {
  Payload payload;
  Attributes attributes;
  std::string topic;
  std::string partition_topic;
  std::optional<std::size_t> partition;
  std::uint64_t offset = 0;
  MessageId message_id;
  std::uint64_t publish_time_us = 0;
  std::string producer_name;
  std::string subscription;
  std::optional<std::string> routing_key;
  std::optional<SchemaInfo> schema;
  std::shared_ptr<const nlohmann::json> decoded;
};

namespace {
const std::shared_ptr<const SinkRecord::Data>& empty_record_data() {
  static const auto empty = std::make_shared<const SinkRecord::Data>();
  return empty;
}
}  // namespace

SinkRecord::SinkRecord() : data_(empty_record_data()) {}

const Payload& SinkRecord::payload() const {
  return data_->payload;
}

std::string_view SinkRecord::as_string() const {
  return serialization::utf8_from_bytes(data_->payload.view());
}

nlohmann::json SinkRecord::as_json() const {
  if (data_->decoded) return *data_->decoded;
  return serialization::json_from_bytes(data_->payload.view());
}

double SinkRecord::as_number() const {
  if (data_->decoded && data_->decoded->is_number()) return data_->decoded->get<double>();
  return serialization::number_from_bytes(data_->payload.view());
}

std::int64_t SinkRecord::as_integer() const {
  if (data_->decoded && data_->decoded->is_number_integer()) {
    if (data_->decoded->is_number_unsigned() &&
        data_->decoded->get<std::uint64_t>() >
            static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
      throw ConnectorError::invalid_data("payload integer does not fit in int64");
    }
    return data_->decoded->get<std::int64_t>();
  }
  return serialization::integer_from_bytes(data_->payload.view());
}

const nlohmann::json* SinkRecord::decoded_value() const {
  return data_->decoded.get();
}

const Attributes& SinkRecord::attributes() const {
  return data_->attributes;
}

std::optional<std::string_view> SinkRecord::attribute(std::string_view name) const {
  const auto it = data_->attributes.find(name);
  if (it == data_->attributes.end()) return std::nullopt;
  return std::string_view(it->second);
}

const std::string& SinkRecord::topic() const {
  return data_->topic;
}
const std::string& SinkRecord::partition_topic() const {
  return data_->partition_topic;
}
std::optional<std::size_t> SinkRecord::partition() const {
  return data_->partition;
}
std::uint64_t SinkRecord::offset() const {
  return data_->offset;
}
const MessageId& SinkRecord::message_id() const {
  return data_->message_id;
}
std::uint64_t SinkRecord::publish_time_us() const {
  return data_->publish_time_us;
}

std::chrono::system_clock::time_point SinkRecord::publish_time() const {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::microseconds(data_->publish_time_us)));
}

const std::string& SinkRecord::producer_name() const {
  return data_->producer_name;
}
const std::string& SinkRecord::subscription() const {
  return data_->subscription;
}
const std::optional<std::string>& SinkRecord::routing_key() const {
  return data_->routing_key;
}
const std::optional<SchemaInfo>& SinkRecord::schema() const {
  return data_->schema;
}

RoutingContext SinkRecord::routing_context() const {
  const auto& key = data_->routing_key;
  return RoutingContext(topic(), key ? std::optional<std::string_view>(*key) : std::nullopt,
                        partition(), attributes());
}

RecordContext SinkRecord::context() const {
  return RecordContext(routing_context(), publish_time_us(), std::string_view(data_->producer_name),
                       data_->schema ? &*data_->schema : nullptr);
}

void SinkRecord::throw_type_mismatch(const char* what) {
  throw ConnectorError::invalid_data(std::string("failed to deserialize to target type: ") + what);
}

SinkRecordBuilder::SinkRecordBuilder() : data_(std::make_unique<SinkRecord::Data>()) {}
SinkRecordBuilder::~SinkRecordBuilder() = default;
SinkRecordBuilder::SinkRecordBuilder(const SinkRecordBuilder& other)
    : data_(std::make_unique<SinkRecord::Data>(*other.data_)),
      message_id_set_(other.message_id_set_) {}
SinkRecordBuilder& SinkRecordBuilder::operator=(const SinkRecordBuilder& other) {
  if (this != &other) {
    data_ = std::make_unique<SinkRecord::Data>(*other.data_);
    message_id_set_ = other.message_id_set_;
  }
  return *this;
}
SinkRecordBuilder::SinkRecordBuilder(SinkRecordBuilder&&) noexcept = default;
SinkRecordBuilder& SinkRecordBuilder::operator=(SinkRecordBuilder&&) noexcept = default;

SinkRecordBuilder& SinkRecordBuilder::payload(Payload bytes) {
  data_->payload = std::move(bytes);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::payload(std::string bytes) {
  data_->payload = Payload(std::move(bytes));
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::json_payload(const nlohmann::json& value) {
  data_->payload = Payload(serialization::json_to_bytes(value));
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::topic(std::string logical_topic) {
  data_->topic = std::move(logical_topic);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::partition_topic(std::string topic) {
  data_->partition_topic = std::move(topic);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::offset(std::uint64_t topic_offset) {
  data_->offset = topic_offset;
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::message_id(MessageId id) {
  data_->message_id = std::move(id);
  message_id_set_ = true;
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::publish_time_us(std::uint64_t micros_since_epoch) {
  data_->publish_time_us = micros_since_epoch;
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::producer_name(std::string name) {
  data_->producer_name = std::move(name);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::subscription(std::string name) {
  data_->subscription = std::move(name);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::routing_key(std::string key) {
  data_->routing_key = std::move(key);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::attribute(std::string name, std::string value) {
  data_->attributes.insert_or_assign(std::move(name), std::move(value));
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::attributes(Attributes values) {
  data_->attributes = std::move(values);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::schema(SchemaInfo info) {
  data_->schema = std::move(info);
  return *this;
}

SinkRecordBuilder& SinkRecordBuilder::decoded_value(nlohmann::json value) {
  data_->decoded = std::make_shared<const nlohmann::json>(std::move(value));
  return *this;
}

const Payload& SinkRecordBuilder::current_payload() const {
  return data_->payload;
}

SinkRecordBuilder& SinkRecordBuilder::decoded_value(std::shared_ptr<const nlohmann::json> value) {
  data_->decoded = std::move(value);
  return *this;
}

namespace {

// The defaults build() documents, filled in on the record's own copy of the settings.
void complete(SinkRecord::Data& data, bool message_id_set) {
  if (data.partition_topic.empty()) data.partition_topic = data.topic;
  if (data.topic.empty()) data.topic = base_topic_name(data.partition_topic);
  data.partition = partition_index(data.partition_topic);
  if (!message_id_set) {
    data.message_id.topic_name = data.partition_topic;
    data.message_id.topic_offset = data.offset;
  }
}

}  // namespace

SinkRecord SinkRecordBuilder::build() const& {
  auto data = std::make_shared<SinkRecord::Data>(*data_);
  complete(*data, message_id_set_);
  return SinkRecord(std::move(data));
}

SinkRecord SinkRecordBuilder::build() && {
  auto data = std::make_shared<SinkRecord::Data>(std::move(*data_));
  complete(*data, message_id_set_);
  return SinkRecord(std::move(data));
}

}  // namespace danube::connect
