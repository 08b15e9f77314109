#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "danube/common/subscription_type.hpp"

namespace danube::connect {

struct SinkRoute;

using danube::parse_subscription_type;
using danube::SubscriptionType;
using danube::to_string;

// One subscription of a sink connector.
struct ConsumerConfig {
  std::string topic;  // `/namespace/topic`; for a partitioned topic, its base name
  std::string consumer_name;
  std::string subscription;
  SubscriptionType subscription_type = kDefaultSubscriptionType;
  // When set, every record must carry a schema of this subject; others are invalid_data.
  std::optional<std::string> expected_schema_subject;
  // For key_shared only: the routing keys this consumer wants (empty = any).
  std::vector<std::string> key_filters;

  // The seed's route conversions; config -> route -> config is exact.
  SinkRoute route() const;
  static ConsumerConfig from_route(const SinkRoute& route);

  friend bool operator==(const ConsumerConfig&, const ConsumerConfig&) = default;
};

// Throws ConnectorError(configuration) naming the bad field: an invalid topic name, an empty
// consumer or subscription name, key_filters without key_shared.
void validate(const ConsumerConfig& config);

}  // namespace danube::connect
