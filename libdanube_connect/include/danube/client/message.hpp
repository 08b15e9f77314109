#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "danube/common/message_id.hpp"

namespace danube::client {

using danube::Attributes;
using danube::MessageId;

// What a producer sends.
struct OutgoingMessage {
  std::string payload;
  Attributes attributes;
  std::optional<std::string> key;  // routes to a partition by FNV-1a and becomes the routing key
};

// What a consumer receives: the producer's message as the broker delivered it.
struct ReceivedMessage {
  std::uint64_t request_id = 0;  // the producer's request id; acks echo it
  MessageId id;
  std::string payload;
  std::uint64_t publish_time = 0;  // milliseconds since the Unix epoch, set by the producer
  std::string producer_name;
  std::string subscription_name;
  Attributes attributes;
  std::optional<std::uint64_t> schema_id;
  std::optional<std::uint32_t> schema_version;
  std::optional<std::string> routing_key;
  std::string topic;          // the logical topic the consumer subscribed to
  std::size_t partition = 0;  // index of id.topic_name among the consumer's partitions
};

// The outcome of one successful send.
struct SendReceipt {
  std::uint64_t request_id = 0;  // echoed by the broker; Danube returns no offset to producers
  std::string topic_name;        // the partition topic the message went to
  std::size_t partition = 0;
};

}  // namespace danube::client
