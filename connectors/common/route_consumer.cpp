#include "route_consumer.hpp"

#include "danube/common/subscription_type.hpp"

namespace danube::connectors {

connect::ConsumerConfig read_route_consumer(const connect::ConfigSection& route,
                                            const std::string& connector_name, std::size_t index) {
  connect::ConsumerConfig consumer;
  consumer.topic = route.require_topic("from");
  consumer.subscription = route.get_string("subscription", connector_name);
  if (consumer.subscription.empty()) route.fail("subscription", "must not be empty");
  consumer.consumer_name =
      route.get_string("consumer_name", connector_name + "-" + std::to_string(index));
  if (consumer.consumer_name.empty()) route.fail("consumer_name", "must not be empty");
  const auto type = route.get_string("subscription_type", "Exclusive");
  const auto parsed = connect::parse_subscription_type(type);
  if (!parsed) {
    route.fail("subscription_type",
               "must be Exclusive, Shared, FailOver or KeyShared (got \"" + type + "\")");
  }
  consumer.subscription_type = *parsed;
  consumer.expected_schema_subject = route.get_string("expected_schema_subject");
  return consumer;
}

}  // namespace danube::connectors
