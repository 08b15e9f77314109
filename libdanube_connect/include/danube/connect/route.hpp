#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "danube/common/subscription_type.hpp"
#include "danube/connect/schema_config.hpp"

namespace danube::connect {

// The route vocabulary of danube-connect-core 0.5: a route names a Danube topic and the policies
// a connector applies to it. Routes are plain data; the runtime consumes ConsumerConfig and
// ProducerConfig, which convert to and from routes (ConsumerConfig::route(), from_route(), ...).

// The schema side of a route: what a sink expects, what a source publishes with.
struct RouteSchemaPolicy {
  std::optional<std::string> expected_subject;  // sinks: records must carry this subject
  std::optional<SchemaConfig> output_schema;    // sources: the schema to publish with

  static RouteSchemaPolicy none() { return {}; }

  friend bool operator==(const RouteSchemaPolicy&, const RouteSchemaPolicy&) = default;
};

// How a sink route subscribes.
struct RouteSubscriptionPolicy {
  std::string consumer_name;
  std::string subscription;
  SubscriptionType subscription_type = kDefaultSubscriptionType;
  // key_shared only: glob patterns of the routing keys to receive (empty = any). Ours; the
  // seed has no key-shared subscriptions.
  std::vector<std::string> key_filters;

  RouteSubscriptionPolicy() = default;
  RouteSubscriptionPolicy(std::string consumer, std::string subscription_name,
                          SubscriptionType type = kDefaultSubscriptionType)
      : consumer_name(std::move(consumer)),
        subscription(std::move(subscription_name)),
        subscription_type(type) {}

  friend bool operator==(const RouteSubscriptionPolicy&, const RouteSubscriptionPolicy&) = default;
};

// How a source route publishes.
struct RouteDispatchPolicy {
  std::size_t partitions = 0;  // 0 = not partitioned
  bool reliable_dispatch = false;

  RouteDispatchPolicy() = default;
  RouteDispatchPolicy(std::size_t partition_count, bool reliable)
      : partitions(partition_count), reliable_dispatch(reliable) {}

  friend bool operator==(const RouteDispatchPolicy&, const RouteDispatchPolicy&) = default;
};

// A topic a sink consumes.
struct SinkRoute {
  std::string topic;
  RouteSubscriptionPolicy subscription;
  RouteSchemaPolicy schema;

  SinkRoute() = default;
  SinkRoute(std::string topic_name, RouteSubscriptionPolicy subscription_policy,
            RouteSchemaPolicy schema_policy = {})
      : topic(std::move(topic_name)),
        subscription(std::move(subscription_policy)),
        schema(std::move(schema_policy)) {}

  friend bool operator==(const SinkRoute&, const SinkRoute&) = default;
};

// A topic a source publishes to.
struct SourceRoute {
  std::string topic;
  RouteDispatchPolicy dispatch;
  RouteSchemaPolicy schema;

  SourceRoute() = default;
  SourceRoute(std::string topic_name, RouteDispatchPolicy dispatch_policy,
              RouteSchemaPolicy schema_policy = {})
      : topic(std::move(topic_name)), dispatch(dispatch_policy), schema(std::move(schema_policy)) {}

  friend bool operator==(const SourceRoute&, const SourceRoute&) = default;
};

}  // namespace danube::connect
