#include "danube/services/schema_codec.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "danube/common/json_nesting.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/serialization.hpp"
#include "danube/services/avro.hpp"
#include "danube/services/protobuf_schema.hpp"

namespace danube::services {

namespace serialization = connect::serialization;

struct SchemaCodec::Impl {
  std::optional<avro::Schema> avro;
  std::optional<protobuf::Schema> protobuf;
};

SchemaCodec::SchemaCodec(CreateKey, SchemaType type, std::unique_ptr<Impl> impl)
    : type_(type), impl_(std::move(impl)) {}

SchemaCodec::~SchemaCodec() = default;

std::shared_ptr<const SchemaCodec> SchemaCodec::create(SchemaType type, std::string_view definition,
                                                       std::string_view protobuf_message_type) {
  auto impl = std::make_unique<Impl>();
  if (type == SchemaType::avro) impl->avro = avro::Schema::parse(definition);
  if (type == SchemaType::protobuf) {
    impl->protobuf = protobuf::Schema::parse(definition, protobuf_message_type);
  }
  if (type == SchemaType::json_schema && !definition.empty()) {
    // The definition must at least be JSON; validating payloads against it is left to the
    // broker's schema validation policy.
    if (json_nesting_exceeds_limit(definition)) {
      throw ConnectorError::configuration("json schema: " + json_nesting_error());
    }
    try {
      const auto parsed = nlohmann::json::parse(definition.begin(), definition.end());
      (void)parsed;
    } catch (const nlohmann::json::exception& e) {
      throw ConnectorError::configuration(std::string("json schema: not valid JSON: ") + e.what());
    }
  }
  return std::make_shared<const SchemaCodec>(CreateKey(), type, std::move(impl));
}

namespace {

// The record's value as JSON: its own value, or its payload parsed as JSON.
nlohmann::json json_of(const SourceRecord& record) {
  if (const auto* value = record.json_value()) return *value;
  try {
    return serialization::json_from_bytes(record.payload().view());
  } catch (const ConnectorError& e) {
    throw ConnectorError::serialization("the record's payload is not JSON: " + e.message());
  }
}

}  // namespace

std::string SchemaCodec::encode_json(const nlohmann::json& value) const {
  switch (type_) {
    case SchemaType::json_schema:
      return serialization::json_to_bytes(value);
    case SchemaType::string:
      if (value.is_string()) return value.get<std::string>();
      return serialization::json_to_bytes(value);
    case SchemaType::number:
      if (!value.is_number()) {
        throw ConnectorError::serialization("schema type number needs a JSON number value");
      }
      return serialization::json_to_bytes(value);
    case SchemaType::bytes:
      if (value.is_string()) return value.get<std::string>();
      return serialization::json_to_bytes(value);
    case SchemaType::avro:
      return impl_->avro->encode(value);
    case SchemaType::protobuf:
      return impl_->protobuf->encode(value);
  }
  throw ConnectorError::serialization("unknown schema type");
}

std::string SchemaCodec::encode(const SourceRecord& record) const {
  const std::string& payload = record.payload().str();
  switch (type_) {
    case SchemaType::json_schema:
      if (record.json_value() == nullptr) (void)json_of(record);  // must be JSON text
      return payload;
    case SchemaType::string:
      if (const auto* value = record.json_value(); value && value->is_string()) {
        return value->get<std::string>();
      }
      if (!serialization::is_valid_utf8(payload)) {
        throw ConnectorError::serialization("schema type string needs UTF-8 text");
      }
      return payload;
    case SchemaType::number: {
      const auto* value = record.json_value();
      if (value && value->is_number()) return payload;
      try {
        (void)serialization::number_from_bytes(payload);
      } catch (const ConnectorError&) {
        throw ConnectorError::serialization("schema type number needs a JSON number payload");
      }
      return payload;
    }
    case SchemaType::bytes:
      return payload;
    case SchemaType::avro:
    case SchemaType::protobuf:
      return encode_json(json_of(record));
  }
  throw ConnectorError::serialization("unknown schema type");
}

std::shared_ptr<const nlohmann::json> SchemaCodec::decode(std::string_view payload) const {
  switch (type_) {
    case SchemaType::json_schema:
      return std::make_shared<const nlohmann::json>(serialization::json_from_bytes(payload));
    case SchemaType::string:
      return std::make_shared<const nlohmann::json>(
          std::string(serialization::utf8_from_bytes(payload)));
    case SchemaType::number: {
      auto value = serialization::json_from_bytes(payload);
      if (!value.is_number()) throw ConnectorError::invalid_data("payload is not a JSON number");
      return std::make_shared<const nlohmann::json>(std::move(value));
    }
    case SchemaType::bytes:
      return nullptr;
    case SchemaType::avro:
      return std::make_shared<const nlohmann::json>(impl_->avro->decode(payload));
    case SchemaType::protobuf:
      return std::make_shared<const nlohmann::json>(impl_->protobuf->decode(payload));
  }
  throw ConnectorError::invalid_data("unknown schema type");
}

std::shared_ptr<const nlohmann::json> SchemaCodec::decode(
    std::span<const std::uint8_t> payload) const {
  return decode(std::string_view(reinterpret_cast<const char*>(payload.data()), payload.size()));
}

}  // namespace danube::services
