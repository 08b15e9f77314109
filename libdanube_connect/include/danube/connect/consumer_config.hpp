#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danube::connect {

enum class SubscriptionType { exclusive, shared, failover, key_shared };

// "Exclusive", "Shared", "Failover", "KeyShared" (Danube's spellings).
std::string_view to_string(SubscriptionType type);
// Case-insensitive; accepts "FailOver"/"fail_over" and "key_shared"/"KeyShared" too.
std::optional<SubscriptionType> parse_subscription_type(std::string_view text);

// One subscription of a sink connector.
struct ConsumerConfig {
  std::string topic;  // `/namespace/topic`; for a partitioned topic, its base name
  std::string consumer_name;
  std::string subscription;
  SubscriptionType subscription_type = SubscriptionType::exclusive;
  // When set, every record must carry a schema of this subject; others are invalid_data.
  std::optional<std::string> expected_schema_subject;
  // For key_shared only: the routing keys this consumer wants (empty = any).
  std::vector<std::string> key_filters;

  friend bool operator==(const ConsumerConfig&, const ConsumerConfig&) = default;
};

// Throws ConnectorError(configuration) naming the bad field: an invalid topic name, an empty
// consumer or subscription name, key_filters without key_shared.
void validate(const ConsumerConfig& config);

}  // namespace danube::connect
