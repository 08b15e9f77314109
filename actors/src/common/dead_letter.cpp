#include "dead_letter.hpp"

#include "danube/services/dead_letter.hpp"

namespace danube::runtime {
namespace {

// Failure times of a record that failed only once (no retries recorded) are "now".
void fill_failures(services::DeadLetterOrigin& origin, std::uint32_t attempts,
                   WallClock::time_point first, WallClock::time_point last) {
  const auto now = WallClock::now();
  origin.attempts = std::max<std::uint32_t>(1, attempts);
  origin.first_failure = attempts > 0 ? first : now;
  origin.last_failure = attempts > 0 ? last : now;
}

}  // namespace

std::string_view to_string(FailureStage stage) {
  switch (stage) {
    case FailureStage::decode:
      return "decode";
    case FailureStage::process:
      return "process";
    case FailureStage::publish:
      return "publish";
  }
  return "process";
}

client::OutgoingMessage dead_letter_message(const InflightRecord& record,
                                            const connect::ConnectorError& error,
                                            const std::string& connector_name) {
  const client::ReceivedMessage& received = record.message;
  services::DeadLetterOrigin origin;
  origin.connector = connector_name;
  origin.stage = std::string(to_string(record.stage));
  origin.topic = record.topic;
  origin.partition_topic = received.id.topic_name;
  origin.offset = std::to_string(received.id.topic_offset);
  fill_failures(origin, record.attempts, record.first_failure, record.last_failure);

  Attributes attributes = received.attributes;
  services::add_dead_letter_attributes(attributes, origin, error);
  client::OutgoingMessage message;
  message.payload = record.record ? record.record->payload().str() : received.payload;
  message.attributes = std::move(attributes);
  message.key = received.routing_key;
  return message;
}

client::OutgoingMessage dead_letter_message(const SourceItem& item, const std::string& topic,
                                            const std::string& payload,
                                            const connect::ConnectorError& error,
                                            const std::string& connector_name) {
  const auto& record = item.envelope.record;
  services::DeadLetterOrigin origin;
  origin.connector = connector_name;
  origin.stage = std::string(to_string(FailureStage::publish));
  origin.topic = topic;
  origin.partition_topic = topic;
  if (item.envelope.offset) {
    origin.offset =
        item.envelope.offset->partition + ":" + std::to_string(item.envelope.offset->value);
  }
  fill_failures(origin, item.attempts, item.first_failure, item.last_failure);

  Attributes attributes = record.attributes();
  services::add_dead_letter_attributes(attributes, origin, error);
  client::OutgoingMessage message;
  message.payload = payload;
  message.attributes = std::move(attributes);
  message.key = record.key();
  return message;
}

}  // namespace danube::runtime
