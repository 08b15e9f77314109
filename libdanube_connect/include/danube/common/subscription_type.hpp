#pragma once

#include <optional>
#include <string_view>

namespace danube {

// How the consumers of one subscription share its messages. The numbers are the wire values of
// danube.ConsumerRequest.SubscriptionType.
enum class SubscriptionType {
  exclusive = 0,   // one consumer; a second one is refused
  shared = 1,      // messages are spread over all consumers (no order across them)
  failover = 2,    // one active consumer, the others take over when it goes
  key_shared = 3,  // messages of one routing key go to the same consumer
};

// The default everywhere (client consumers, connector consumer configs, routes). Exclusive keeps
// a partition's order and makes a second instance of a connector fail loudly instead of quietly
// splitting the stream; choose shared or key_shared explicitly to scale out.
inline constexpr SubscriptionType kDefaultSubscriptionType = SubscriptionType::exclusive;

// "Exclusive", "Shared", "Failover", "KeyShared" (Danube's spellings).
std::string_view to_string(SubscriptionType type);
// Case-insensitive, ignoring '_' and '-': "Shared", "key_shared", "FailOver", "KeyShared".
std::optional<SubscriptionType> parse_subscription_type(std::string_view text);

}  // namespace danube
