#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "danube/connect/error.hpp"
#include "danube/connect/sink_record.hpp"
#include "danube/services/schema_cache.hpp"

namespace danube::services {

using connect::ConnectorError;
using connect::SinkRecord;
using connect::SinkRecordBuilder;

// Turns a received message into a SinkRecord, applying its schema: looks the schema up
// (through the cache), enforces the subscription's expected_schema_subject, decodes the
// payload, and fills the record's schema info and decoded value.
//
// Throws ConnectorError(invalid_data) when the subject does not match, when a subject is
// expected but the message has no schema, or when the payload does not decode; registry
// failures propagate (kind danube; retry when the client error is retryable).
class RecordDecoder {
 public:
  // `cache` may be null when no registry is available: then messages with a schema id are
  // passed through undecoded (schema info set, no decoded value) unless a subject is
  // expected, which is an error.
  explicit RecordDecoder(std::shared_ptr<SchemaCache> cache) : cache_(std::move(cache)) {}

  // The record takes the builder's settings (moved, not copied). After a throw the builder
  // still holds the payload, for the dead-letter topic.
  SinkRecord decode(SinkRecordBuilder& builder, std::optional<std::uint64_t> schema_id,
                    std::optional<std::uint32_t> schema_version,
                    const std::optional<std::string>& expected_subject) const;

 private:
  std::shared_ptr<SchemaCache> cache_;
};

}  // namespace danube::services
