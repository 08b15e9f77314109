#pragma once

// A received message on its way through a sink, and how it ends: AckRecords to the consumer
// actor that owns it.

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "../common/runtime_context.hpp"
#include "danube/client/message.hpp"
#include "danube/connect/sink_record.hpp"

namespace danube::runtime {

struct InflightRecord;

// -> the record's owner: these records are done (processed, dead-lettered or skipped): ack
// them and release their credit.
struct AckRecords {
  std::vector<InflightRecord> records;
};

// What every record keeps of the consumer actor that received it.
using record_owner_actor = caf::typed_actor<caf::reacts_to<AckRecords>>;

// How far a failed record got before it failed: a dead-letter attribute.
enum class FailureStage { decode, process, publish };
std::string_view to_string(FailureStage stage);

// The message, the record the worker decodes from it (once, on the connector's thread, since a
// schema lookup may block), and what is needed to ack it and to report its failures.
struct InflightRecord {
  client::ReceivedMessage message;  // payload moved into `record` once decoded
  std::optional<connect::SinkRecord> record;
  std::string topic;  // the logical topic of the subscription
  std::optional<std::string> expected_schema_subject;
  FailureStage stage = FailureStage::process;  // where the last failure happened
  record_owner_actor owner;  // the consumer actor that acks it and owns its credit
  std::size_t source = 0;    // ordering key: index of the owner (one partition subscription)
  std::size_t bytes = 0;
  std::uint32_t attempts = 0;  // failed process attempts so far
  WallClock::time_point first_failure{};
  WallClock::time_point last_failure{};
  Clock::time_point received_at{};
  // Continuity bookkeeping of the owner (PartitionContinuity): the message's identity digest,
  // taken before the payload moves into `record`, and the offset sequence it arrived in.
  std::uint64_t identity_digest = 0;
  std::uint64_t continuity_epoch = 0;
  // Its place in the owner's sink buffer, when it came from one: finishing it marks it done
  // there instead of acking it (the broker was acked when it was buffered).
  std::optional<std::uint64_t> buffer_sequence;
};

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::InflightRecord)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::AckRecords)
