#include "broker_io_actor.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>

#include "danube/client/consumer.hpp"
#include "danube/client/producer.hpp"
#include "danube/common/backoff.hpp"
#include "runtime_actor.hpp"

namespace danube::runtime {
namespace {

client::Error stopped(const std::string& what) {
  return client::Error(client::ErrorCategory::cancelled, 0, what + ": the pipeline stopped");
}

// Sleeps for `delay` unless `stop` is requested first; false when stopped.
bool pause(std::chrono::milliseconds delay, const std::stop_token& stop) {
  std::mutex mutex;
  std::condition_variable_any wake;
  std::unique_lock lock(mutex);
  return !wake.wait_for(lock, stop, delay, [] { return false; });
}

// The partitions of a topic, waiting for the topic to appear within the retry budget.
client::Result<std::vector<std::string>> wait_for_partitions(const RuntimeContext& context,
                                                             const std::string& topic,
                                                             const std::stop_token& stop) {
  Backoff backoff(context.config.retry.backoff_policy());
  for (std::uint32_t attempt = 0;; ++attempt) {
    auto partitions = context.client.topic_partitions(topic, stop);
    if (stop.stop_requested()) return stopped("subscribe " + topic);
    if (partitions && !partitions.value().empty()) return partitions;
    if (!partitions && !partitions.error().is_retryable()) return partitions;
    // The topic is missing or the broker is briefly unavailable: wait within the budget.
    if (!backoff.should_retry(attempt)) {
      if (!partitions) return partitions;
      return client::Error(client::ErrorCategory::not_found, 0,
                           "topic " + topic + " does not exist (consumers cannot create topics)");
    }
    const auto delay = backoff.delay(attempt + 1);
    spdlog::info("event=waiting_for_topic topic={} attempt={} delay_ms={}", topic, attempt + 1,
                 delay.count());
    if (!pause(delay, stop)) return stopped("subscribe " + topic);
  }
}

SubscribeResult subscribe(const RuntimeContext& context, const SubscribeRequest& request) {
  SubscribeResult result;
  const connect::ConsumerConfig& config = request.config;
  auto partitions = wait_for_partitions(context, config.topic, request.stop);
  if (!partitions) {
    result.error = connect::ConnectorError::danube(partitions.error(), "subscribe " + config.topic);
    return result;
  }
  const auto& delivery = context.config.delivery;
  for (const auto& partition_topic : partitions.value()) {
    client::ConsumerOptions options;
    options.topic = partition_topic;  // one consumer per partition: the runtime's unit of order
    options.consumer_name = config.consumer_name;
    options.subscription = config.subscription;
    options.type = config.subscription_type;
    options.key_filters = config.key_filters;
    options.max_in_flight_acks = delivery.max_inflight_acks;
    options.buffer_max_messages = std::clamp<std::size_t>(delivery.max_inflight_records, 1, 1000);
    options.buffer_max_bytes =
        std::max<std::size_t>(1 << 20, static_cast<std::size_t>(delivery.max_inflight_bytes / 4));
    auto consumer = context.client.subscribe(options, request.stop);
    if (!consumer) {
      result.partitions.clear();  // closes the ones already made
      result.error =
          connect::ConnectorError::danube(consumer.error(), "subscribe " + partition_topic);
      return result;
    }
    result.partitions.push_back(PartitionSubscription{
        partition_topic, std::shared_ptr<client::Consumer>(std::move(consumer).value())});
  }
  return result;
}

CreateProducerResult create_producer(const RuntimeContext& context,
                                     const CreateProducerRequest& request) {
  CreateProducerResult result;
  client::ProducerOptions options;
  options.topic = request.config.topic;
  options.name = request.producer_name;
  options.partitions = request.config.partitions;
  options.dispatch = request.config.reliable_dispatch ? client::Dispatch::reliable
                                                      : client::Dispatch::non_reliable;
  options.ordering = context.config.delivery.ordering;
  options.max_in_flight = std::max<std::size_t>(1, context.config.delivery.max_inflight_sends);
  options.max_pending = std::max<std::size_t>(options.max_in_flight,
                                              context.config.delivery.max_inflight_records + 1024);
  if (const auto& schema = request.config.schema) {
    options.schema = client::SchemaReference{schema->subject, schema->version_strategy};
  }
  auto producer = context.client.create_producer(options, request.stop);
  if (!producer) {
    result.error = connect::ConnectorError::danube(producer.error(),
                                                   "create producer " + request.config.topic);
    return result;
  }
  result.producer = std::shared_ptr<client::Producer>(std::move(producer).value());
  return result;
}

// What is left of a close's budget; zero still closes (cancelling what is pending).
std::chrono::milliseconds remaining(Clock::time_point deadline) {
  return std::max(std::chrono::milliseconds(0),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

void close_clients(CloseRequest& request) {
  if (request.consumer) {
    request.consumer->close(remaining(request.deadline));
    request.consumer.reset();
  }
  if (request.producer) {
    const auto unsent = request.producer->pending();
    request.producer->close(remaining(request.deadline));
    if (unsent > 0) {
      spdlog::info("event=producer_closed topic={} pending_at_close={}", request.producer->topic(),
                   unsent);
    }
    request.producer.reset();
  }
}

}  // namespace

broker_io_actor spawn_broker_io(caf::actor_system& system, ContextPtr context) {
  return system.spawn<caf::detached>(
      [](TypedActor<broker_io_actor>* self, ContextPtr context) -> broker_io_actor::behavior_type {
        (void)self;
        return {
            [context](const SubscribeRequest& request) { return subscribe(*context, request); },
            [context](const CreateProducerRequest& request) {
              return create_producer(*context, request);
            },
            [](CloseRequest& request) { close_clients(request); },
        };
      },
      std::move(context));
}

}  // namespace danube::runtime
