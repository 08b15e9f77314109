#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "danube/connect/error.hpp"
#include "danube/connect/sink_record.hpp"
#include "danube/connect/source_record.hpp"

namespace danube::connect {

// Attributes added to a record routed to the dead-letter topic (the original attributes are
// kept). The error text is cut to kDeadLetterErrorMaxBytes and never includes the payload.
namespace dead_letter_attribute {
inline constexpr std::string_view error_kind = "dlq.error_kind";  // ErrorKind name
inline constexpr std::string_view error = "dlq.error";            // the error's message
inline constexpr std::string_view connector = "dlq.connector";
inline constexpr std::string_view source_topic = "dlq.source_topic";
inline constexpr std::string_view source_partition_topic = "dlq.source_partition_topic";
inline constexpr std::string_view source_offset = "dlq.source_offset";
inline constexpr std::string_view source_subscription = "dlq.source_subscription";
inline constexpr std::string_view source_producer = "dlq.source_producer";
inline constexpr std::string_view source_publish_time_us = "dlq.source_publish_time_us";
inline constexpr std::string_view schema_subject = "dlq.schema_subject";
inline constexpr std::string_view schema_version = "dlq.schema_version";
inline constexpr std::string_view attempts = "dlq.attempts";
}  // namespace dead_letter_attribute

inline constexpr std::size_t kDeadLetterErrorMaxBytes = 1024;

// The record to publish to `dead_letter_topic` for a sink record that failed for good: the
// original payload bytes unchanged, its routing key, its attributes plus the dlq.* ones.
SourceRecord make_dead_letter_record(const SinkRecord& record, const ConnectorError& error,
                                     std::string_view connector_name, std::string dead_letter_topic,
                                     std::uint32_t attempts);

}  // namespace danube::connect
