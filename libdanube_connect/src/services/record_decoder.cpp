#include "danube/services/record_decoder.hpp"

#include "danube/connect/error.hpp"

namespace danube::services {

SinkRecord RecordDecoder::decode(SinkRecordBuilder& builder, std::optional<std::uint64_t> schema_id,
                                 std::optional<std::uint32_t> schema_version,
                                 const std::optional<std::string>& expected_subject) const {
  if (!schema_id) {
    if (expected_subject) {
      throw ConnectorError::invalid_data("expected schema subject '" + *expected_subject +
                                         "' but the message carries no schema");
    }
    return std::move(builder).build();
  }
  if (!cache_) {
    if (expected_subject) {
      throw ConnectorError::invalid_data("expected schema subject '" + *expected_subject +
                                         "' but no schema registry is available to check "
                                         "schema id " +
                                         std::to_string(*schema_id));
    }
    builder.schema({*schema_id, schema_version.value_or(0), "", std::nullopt});
    return std::move(builder).build();
  }
  const auto resolved = cache_->resolve(*schema_id, schema_version);
  if (expected_subject && resolved->schema.subject != *expected_subject) {
    throw ConnectorError::invalid_data("schema mismatch: expected '" + *expected_subject +
                                       "', got '" + resolved->schema.subject + "' (schema id " +
                                       std::to_string(*schema_id) + ")");
  }
  builder.schema({*schema_id, resolved->schema.version, resolved->schema.subject, resolved->type});
  if (resolved->codec) {
    if (auto value = resolved->codec->decode(builder.current_payload().view())) {
      builder.decoded_value(std::move(value));
    }
  }
  return std::move(builder).build();
}

}  // namespace danube::services
