#include "danube/common/delivery_modes.hpp"

#include <cctype>
#include <string>

#include "danube/common/subscription_type.hpp"

namespace danube {
namespace {

std::string without_separators_lowercase(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '_' || c == '-') continue;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

}  // namespace

std::string_view to_string(SubscriptionType type) {
  switch (type) {
    case SubscriptionType::exclusive:
      return "Exclusive";
    case SubscriptionType::shared:
      return "Shared";
    case SubscriptionType::failover:
      return "Failover";
    case SubscriptionType::key_shared:
      return "KeyShared";
  }
  return "Unknown";
}

std::optional<SubscriptionType> parse_subscription_type(std::string_view text) {
  const std::string name = without_separators_lowercase(text);
  if (name == "exclusive") return SubscriptionType::exclusive;
  if (name == "shared") return SubscriptionType::shared;
  if (name == "failover") return SubscriptionType::failover;
  if (name == "keyshared") return SubscriptionType::key_shared;
  return std::nullopt;
}

std::string_view to_string(Dispatch dispatch) {
  return dispatch == Dispatch::reliable ? "reliable" : "non_reliable";
}

std::string_view to_string(Ordering ordering) {
  return ordering == Ordering::strict ? "strict" : "relaxed";
}

std::optional<Ordering> parse_ordering(std::string_view text) {
  if (text == "strict") return Ordering::strict;
  if (text == "relaxed") return Ordering::relaxed;
  return std::nullopt;
}

}  // namespace danube
