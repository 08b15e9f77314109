#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "danube/connect/error.hpp"
#include "danube/connect/sink_record.hpp"

namespace danube::services {

using connect::ConnectorError;
using connect::ErrorKind;
using connect::SinkRecord;

// Attributes a message routed to the dead-letter topic carries besides its own, so whoever
// reads the dead-letter topic knows where it came from and why it failed.
namespace dead_letter_attribute {
inline constexpr std::string_view origin_topic = "dlq.origin_topic";          // logical topic
inline constexpr std::string_view origin_partition = "dlq.origin_partition";  // partition topic
inline constexpr std::string_view offset =
    "dlq.offset";  // Danube offset, or source partition:value
inline constexpr std::string_view connector = "dlq.connector";
inline constexpr std::string_view stage = "dlq.stage";            // decode, process, publish
inline constexpr std::string_view error_kind = "dlq.error_kind";  // ErrorKind name
inline constexpr std::string_view error_message = "dlq.error_message";
inline constexpr std::string_view attempts = "dlq.attempts";
inline constexpr std::string_view first_failure = "dlq.first_failure";  // RFC 3339 UTC, ms
inline constexpr std::string_view last_failure = "dlq.last_failure";
}  // namespace dead_letter_attribute

// The error text is cut to this many bytes (at a character boundary) and made valid UTF-8.
inline constexpr std::size_t kDeadLetterErrorMaxBytes = 1024;

// Where a failed record came from and how its attempts went.
struct DeadLetterOrigin {
  std::string connector;
  std::string stage;            // "decode", "process" or "publish"
  std::string topic;            // the logical topic
  std::string partition_topic;  // the topic it was stored on (== topic when not partitioned)
  std::string offset;           // empty when unknown
  std::uint32_t attempts = 1;
  std::chrono::system_clock::time_point first_failure;
  std::chrono::system_clock::time_point last_failure;
};

// Adds the dlq.* attributes for `origin` and `error` to `attributes` (overwriting any of the
// same name the record already had).
void add_dead_letter_attributes(Attributes& attributes, const DeadLetterOrigin& origin,
                                const ConnectorError& error);

// 2026-11-24T21:30:35.123Z
std::string format_utc_millis(std::chrono::system_clock::time_point time);

}  // namespace danube::services
