#include "sink_supervisor_actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "../common/runtime_actor.hpp"
#include "../common/runtime_supervisor.hpp"
#include "consumer_actor.hpp"
#include "dispatcher_actor.hpp"
#include "sink_offset_file.hpp"
#include "sink_worker_actor.hpp"

namespace danube::runtime {
namespace {

struct Pipeline {
  std::uint64_t incarnation = 0;
  dispatcher_actor dispatcher;
  std::vector<consumer_actor> consumers;
  bool running = false;
};

struct SinkSupervisorState {
  ContextPtr context;
  std::unique_ptr<RuntimeSupervisor> runtime;
  sink_worker_actor worker;  // the runtime's connector actor, with the sink's own messages
  Pipeline pipeline;

  static inline const char* name = "danube-sink-supervisor";
};

using SinkSupervisor = TypedStatefulActor<supervisor_actor, SinkSupervisorState>;

bool is_current(SinkSupervisor* self, std::uint64_t incarnation) {
  return self->state.pipeline.incarnation == incarnation &&
         self->state.runtime->is_current(incarnation);
}

// Stops the pipeline's actors; their records are unacked and come back from the broker. Each
// consumer actor hands its client consumer to broker I/O for closing as it ends.
void tear_down_pipeline(SinkSupervisor* self) {
  auto& pipeline = self->state.pipeline;
  for (auto& consumer : pipeline.consumers) {
    self->send_exit(consumer, caf::exit_reason::user_shutdown);
  }
  if (pipeline.dispatcher) {
    self->send_exit(pipeline.dispatcher, caf::exit_reason::user_shutdown);
  }
  pipeline = Pipeline{};
}

bool owns(SinkSupervisor* self, const caf::actor_addr& actor) {
  const auto& pipeline = self->state.pipeline;
  if (actor == pipeline.dispatcher.address()) return true;
  for (const auto& consumer : pipeline.consumers) {
    if (actor == consumer.address()) return true;
  }
  return false;
}

// Subscriptions made for an incarnation that is gone: closing them blocks, so broker I/O does it.
void discard(SinkSupervisor* self, SubscribeResult& result) {
  for (auto& partition : result.partitions) {
    self->send(self->state.runtime->actors().broker_io,
               CloseRequest{std::move(partition.consumer), nullptr});
  }
  result.partitions.clear();
}

// One partition's share of the sink buffer: max_bytes split evenly, so the sum over all
// partitions is the configured bound, in segments of at most a quarter of that share.
SinkBuffer::Options buffer_options(const connect::ConnectorConfig& config, std::size_t partitions,
                                   const std::string& partition_topic,
                                   const std::string& subscription) {
  SinkBuffer::Options options;
  options.directory =
      config.sink_buffer_directory() / partition_subscription_stem(partition_topic, subscription);
  options.max_bytes = std::max<std::uint64_t>(64 << 10, config.sink_buffer.max_bytes / partitions);
  options.segment_bytes =
      std::clamp<std::uint64_t>(options.max_bytes / 4, 16 << 10, config.sink_buffer.segment_bytes);
  return options;
}

void spawn_consumers(
    SinkSupervisor* self, std::uint64_t incarnation,
    std::vector<std::pair<connect::ConsumerConfig, SubscribeResult>> subscriptions) {
  auto& state = self->state;
  const auto& config = state.context->config;
  std::size_t partitions = 0;
  for (const auto& [subscription, result] : subscriptions)
    partitions += result.partitions.size();
  partitions = std::max<std::size_t>(1, partitions);
  // Credit is split evenly, so the sum over all consumers is the configured bound.
  const std::size_t records_per_consumer =
      std::max<std::size_t>(1, config.delivery.max_inflight_records / partitions);
  const std::size_t bytes_per_consumer = std::max<std::size_t>(
      1, static_cast<std::size_t>(config.delivery.max_inflight_bytes) / partitions);
  std::size_t source = 0;
  for (auto& [subscription, result] : subscriptions) {
    for (auto& partition : result.partitions) {
      ConsumerActorConfig consumer;
      consumer.context = state.context;
      consumer.consumer = std::move(partition.consumer);
      consumer.subscription = subscription;
      consumer.partition_topic = partition.partition_topic;
      consumer.source = source++;
      consumer.max_records = records_per_consumer;
      consumer.max_bytes = bytes_per_consumer;
      consumer.batch_size = config.processing.batch_size;
      consumer.dispatcher = state.pipeline.dispatcher;
      consumer.broker_io = state.runtime->actors().broker_io;
      // With one consumer on the subscription every offset comes here, so a missing one is a
      // loss. Shared and KeyShared spread offsets over consumers; a Failover standby has not
      // seen what the active consumer processed.
      consumer.track_continuity =
          subscription.subscription_type == connect::SubscriptionType::exclusive;
      consumer.supervisor = self;
      consumer.incarnation = incarnation;
      consumer.paused = state.runtime->paused();
      if (config.sink_buffer.enabled) {
        consumer.buffer = buffer_options(config, partitions, partition.partition_topic,
                                         subscription.subscription);
      }
      auto actor = spawn_consumer_actor(self->system(), std::move(consumer));
      self->monitor(actor);
      state.pipeline.consumers.push_back(actor);
      self->send(actor, pull_atom::value);
      spdlog::info("event=subscribed topic={} partition={} subscription={}", subscription.topic,
                   partition.partition_topic, subscription.subscription);
    }
  }
  state.pipeline.running = true;
  state.runtime->pipeline_running(incarnation);
}

void subscribe_all(SinkSupervisor* self, std::uint64_t incarnation,
                   std::vector<connect::ConsumerConfig> configs) {
  auto results =
      std::make_shared<std::vector<std::pair<connect::ConsumerConfig, SubscribeResult>>>();
  auto remaining = std::make_shared<std::size_t>(configs.size());
  for (auto& config : configs) {
    self->request(self->state.runtime->actors().broker_io, caf::infinite,
                  SubscribeRequest{config, self->state.runtime->pipeline_stop()})
        .then(
            [=](SubscribeResult& result) {
              if (!is_current(self, incarnation)) {
                discard(self, result);
                return;
              }
              if (result.error) {
                for (auto& [done_config, done] : *results)
                  discard(self, done);
                results->clear();
                self->state.runtime->fail(*result.error, "subscribe " + config.topic, incarnation);
                return;
              }
              results->emplace_back(config, std::move(result));
              if (--*remaining == 0) spawn_consumers(self, incarnation, std::move(*results));
            },
            [=](const caf::error& error) {
              if (!is_current(self, incarnation)) return;
              for (auto& [done_config, done] : *results)
                discard(self, done);
              results->clear();
              self->state.runtime->fail(
                  connect::ConnectorError::fatal("subscribe " + config.topic + ": " +
                                                 self->system().render(error)),
                  "subscribe " + config.topic, incarnation);
            });
  }
}

void start_pipeline(SinkSupervisor* self, std::uint64_t incarnation) {
  auto& state = self->state;
  state.pipeline = Pipeline{};
  state.pipeline.incarnation = incarnation;
  const RuntimeActors& actors = state.runtime->actors();

  const auto& config = state.context->config;
  DispatcherConfig dispatcher;
  dispatcher.context = state.context;
  dispatcher.batch_size = std::max<std::size_t>(1, config.processing.batch_size);
  dispatcher.batch_bytes = std::max<std::size_t>(1 << 20, config.delivery.max_inflight_bytes / 2);
  dispatcher.linger = std::chrono::milliseconds(config.processing.batch_timeout_ms);
  dispatcher.backoff = std::make_shared<Backoff>(config.retry.backoff_policy());
  dispatcher.worker = state.worker;
  dispatcher.dead_letter_router = actors.dead_letter_router;
  dispatcher.supervisor = self;
  dispatcher.incarnation = incarnation;
  state.pipeline.dispatcher = spawn_dispatcher(self->system(), std::move(dispatcher));
  self->monitor(state.pipeline.dispatcher);

  self->request(state.worker, caf::infinite, init_atom::value)
      .then(
          [=](SinkInitResult& result) {
            if (!is_current(self, incarnation)) return;
            if (result.error) {
              self->state.runtime->fail(*result.error, "initialize", incarnation);
              return;
            }
            subscribe_all(self, incarnation, std::move(result.configs));
          },
          [=](const caf::error& error) {
            if (!is_current(self, incarnation)) return;
            self->state.runtime->fail(
                connect::ConnectorError::fatal("initialize: " + self->system().render(error)),
                "initialize", incarnation);
          });
}

// Hands every client consumer of the pipeline to broker I/O (which closes it, flushing acks
// until `deadline`), then calls `then`.
void close_consumers(SinkSupervisor* self, std::chrono::steady_clock::time_point deadline,
                     std::function<void()> then) {
  auto& consumers = self->state.pipeline.consumers;
  if (consumers.empty()) {
    then();
    return;
  }
  auto timeout = [deadline] {
    return std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()),
                    std::chrono::milliseconds(1));
  };
  auto remaining = std::make_shared<std::size_t>(consumers.size());
  auto done = [remaining, then] {
    if (--*remaining == 0) then();
  };
  auto failed = [self, done](const caf::error& error) {
    if (error != caf::sec::request_receiver_down) {
      spdlog::error("event=shutdown_step_failed step=close_consumer error=\"{}\"",
                    self->system().render(error));
      self->state.runtime->supervision().mark_incomplete("close_consumer");
    }
    done();
  };
  for (auto& consumer : consumers) {
    self->request(consumer, timeout(), close_atom::value)
        .then(
            [=](CloseRequest& request) {
              request.deadline = deadline;
              self->request(self->state.runtime->actors().broker_io, timeout(), std::move(request))
                  .then([=] { done(); }, failed);
            },
            failed);
  }
}

// Stop intake, flush the dispatcher, and finish once every consumer's records are acked.
void drain(SinkSupervisor* self) {
  auto& state = self->state;
  if (!state.pipeline.running) {
    state.runtime->finish(std::nullopt);
    return;
  }
  const std::uint64_t incarnation = state.pipeline.incarnation;
  self->send(state.pipeline.dispatcher, drain_all_atom::value);
  auto remaining = std::make_shared<std::size_t>(state.pipeline.consumers.size());
  auto one_idle = [=] {
    if (self->state.pipeline.incarnation != incarnation) return;
    if (--*remaining == 0) self->state.runtime->finish(std::nullopt);
  };
  for (auto& consumer : state.pipeline.consumers) {
    self->request(consumer, caf::infinite, stop_atom::value)
        .then([=](idle_atom) { one_idle(); }, [=](const caf::error&) { one_idle(); });
  }
  if (state.pipeline.consumers.empty()) state.runtime->finish(std::nullopt);
}

}  // namespace

supervisor_actor spawn_sink_supervisor(caf::actor_system& system,
                                       std::shared_ptr<connect::SinkConnector> connector,
                                       ContextPtr context) {
  return system.spawn(
      [](SinkSupervisor* self, std::shared_ptr<connect::SinkConnector> connector,
         ContextPtr context) -> supervisor_actor::behavior_type {
        auto& state = self->state;
        state.context = context;
        PipelineHooks hooks;
        hooks.start = [self](std::uint64_t incarnation) { start_pipeline(self, incarnation); };
        hooks.tear_down = [self] { tear_down_pipeline(self); };
        hooks.drain = [self] { drain(self); };
        hooks.close_clients = [self](std::chrono::steady_clock::time_point deadline,
                                     std::function<void()> then) {
          close_consumers(self, deadline, std::move(then));
        };
        hooks.owns = [self](const caf::actor_addr& actor) { return owns(self, actor); };
        hooks.set_paused = [self](bool paused) {
          for (auto& consumer : self->state.pipeline.consumers)
            self->send(consumer, IntakePause{paused});
        };
        hooks.spawn_connector = [self, connector,
                                 context](std::shared_ptr<ConnectorActivity> activity) {
          self->state.worker =
              spawn_sink_worker(self->system(), connector, context, std::move(activity));
          return connector_worker_actor{self->state.worker};
        };
        state.runtime =
            std::make_unique<RuntimeSupervisor>(self, context, "sink", std::move(hooks));
        state.runtime->start();
        return state.runtime->behavior();
      },
      std::move(connector), std::move(context));
}

}  // namespace danube::runtime
