#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace danube {

// A message's attributes (Danube's "properties"). Transparent comparison lets lookups take a
// string_view.
using Attributes = std::map<std::string, std::string, std::less<>>;

// Danube's identity of a delivered message: what an ack or nack names.
struct MessageId {
  std::uint64_t producer_id = 0;
  std::string topic_name;  // the partition topic the message was stored on, e.g. /ns/t-part-2
  std::string broker_addr;
  std::uint64_t topic_offset = 0;  // per-topic offset on reliable topics, 0 otherwise

  friend bool operator==(const MessageId&, const MessageId&) = default;
};

}  // namespace danube
