// Conversions between routes and the consumer and producer configs the runtime consumes.
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/connect/route.hpp"

namespace danube::connect {

SinkRoute ConsumerConfig::route() const {
  RouteSubscriptionPolicy subscription_policy(consumer_name, subscription, subscription_type);
  subscription_policy.key_filters = key_filters;
  RouteSchemaPolicy schema;
  schema.expected_subject = expected_schema_subject;
  return SinkRoute(topic, std::move(subscription_policy), std::move(schema));
}

ConsumerConfig ConsumerConfig::from_route(const SinkRoute& route) {
  ConsumerConfig config;
  config.topic = route.topic;
  config.consumer_name = route.subscription.consumer_name;
  config.subscription = route.subscription.subscription;
  config.subscription_type = route.subscription.subscription_type;
  config.key_filters = route.subscription.key_filters;
  config.expected_schema_subject = route.schema.expected_subject;
  return config;
}

SourceRoute ProducerConfig::route() const {
  RouteSchemaPolicy schema_policy;
  schema_policy.output_schema = schema;
  return SourceRoute(topic, RouteDispatchPolicy(partitions, reliable_dispatch),
                     std::move(schema_policy));
}

ProducerConfig ProducerConfig::from_route(const SourceRoute& route) {
  ProducerConfig config(route.topic, route.dispatch.partitions, route.dispatch.reliable_dispatch);
  config.schema = route.schema.output_schema;
  return config;
}

}  // namespace danube::connect
