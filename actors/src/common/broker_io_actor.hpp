#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "danube/connect/consumer_config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/producer_config.hpp"
#include "runtime_context.hpp"

namespace danube::client {
class Consumer;
class Producer;
}  // namespace danube::client

namespace danube::runtime {

// Requests to broker I/O. `stop` ends a subscription or producer creation that waits for the
// broker when its pipeline is torn down or the runtime ends, so broker I/O is free again for
// the closing steps.
struct SubscribeRequest {
  connect::ConsumerConfig config;
  std::stop_token stop;
};
struct PartitionSubscription {
  std::string partition_topic;
  std::shared_ptr<client::Consumer> consumer;
};
struct SubscribeResult {
  std::vector<PartitionSubscription> partitions;
  std::optional<connect::ConnectorError> error;
};
struct CreateProducerRequest {
  connect::ProducerConfig config;  // its schema, when set, is stamped on every message
  std::string producer_name;
  std::stop_token stop;
};
struct CreateProducerResult {
  std::shared_ptr<client::Producer> producer;
  std::optional<connect::ConnectorError> error;
};
// Closing flushes acks or pending sends until `deadline` at the latest; the shutdown budget
// sets it when the runtime ends, the default bounds a close during a restart.
inline constexpr std::chrono::seconds kDefaultCloseBudget{5};
struct CloseRequest {
  std::shared_ptr<client::Consumer> consumer;
  std::shared_ptr<client::Producer> producer;
  Clock::time_point deadline = Clock::now() + kDefaultCloseBudget;
};

// A detached actor (a thread of its own) for the client calls that block: subscribing,
// creating producers, closing them. Everything else in the runtime stays non-blocking.
//
//   SubscribeRequest      -> SubscribeResult (waits for a missing topic within the [retry]
//                            budget, since sinks often start before the source that creates it)
//   CreateProducerRequest -> CreateProducerResult
//   CloseRequest          -> done, once the client is closed
using broker_io_actor =
    caf::typed_actor<caf::replies_to<SubscribeRequest>::with<SubscribeResult>,
                     caf::replies_to<CreateProducerRequest>::with<CreateProducerResult>,
                     caf::replies_to<CloseRequest>::with<void>>;

broker_io_actor spawn_broker_io(caf::actor_system& system, ContextPtr context);

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SubscribeRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SubscribeResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CreateProducerRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CreateProducerResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CloseRequest)
