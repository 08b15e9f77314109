#include "sink_supervisor_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/broker_io_actor.hpp"
#include "../common/dead_letter_router_actor.hpp"
#include "../common/health_monitor_actor.hpp"
#include "../common/messages.hpp"
#include "../common/supervision.hpp"
#include "batcher_actor.hpp"
#include "consumer_actor.hpp"
#include "danube/runtime/embedding.hpp"
#include "retry_supervisor_actor.hpp"
#include "sink_worker_actor.hpp"

namespace danube::runtime {
namespace {

struct Pipeline {
  std::uint64_t incarnation = 0;
  caf::actor batcher;
  caf::actor retry_supervisor;
  std::vector<caf::actor> consumers;
  bool running = false;
};

struct SinkSupervisorState {
  ContextPtr context;
  std::shared_ptr<connect::SinkConnector> connector;
  SupervisionState supervision;
  caf::actor worker;
  caf::actor broker_io;
  caf::actor dead_letter_router;
  caf::actor health_monitor;
  Pipeline pipeline;
  std::uint64_t next_incarnation = 1;

  static inline const char* name = "danube-sink-supervisor";
};

using SinkSupervisor = caf::stateful_actor<SinkSupervisorState>;

void start_pipeline(SinkSupervisor* self);
void handle_failure(SinkSupervisor* self, const connect::ConnectorError& error,
                    const std::string& where);

// Stops the pipeline's actors; their records are unacked and come back from the broker.
void tear_down_pipeline(SinkSupervisor* self) {
  auto& pipeline = self->state.pipeline;
  for (auto& consumer : pipeline.consumers) self->send_exit(consumer, caf::exit_reason::user_shutdown);
  if (pipeline.batcher) self->send_exit(pipeline.batcher, caf::exit_reason::user_shutdown);
  if (pipeline.retry_supervisor) {
    self->send_exit(pipeline.retry_supervisor, caf::exit_reason::user_shutdown);
  }
  pipeline = Pipeline{};
}

void spawn_consumers(SinkSupervisor* self, std::uint64_t incarnation,
                     std::vector<std::pair<connect::ConsumerConfig, SubscribeResult>> subscriptions) {
  auto& state = self->state;
  if (state.pipeline.incarnation != incarnation) return;  // torn down meanwhile
  const auto& config = state.context->config;
  std::size_t partitions = 0;
  for (const auto& [subscription, result] : subscriptions) partitions += result.partitions.size();
  // Credit is split evenly, so the sum over all consumers is the configured bound.
  const std::size_t records_per_consumer =
      std::max<std::size_t>(1, config.delivery.max_inflight_records / std::max<std::size_t>(1, partitions));
  const std::size_t bytes_per_consumer = std::max<std::size_t>(
      1, static_cast<std::size_t>(config.delivery.max_inflight_bytes) / std::max<std::size_t>(1, partitions));
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
      consumer.batcher = state.pipeline.batcher;
      consumer.broker_io = state.broker_io;
      auto actor = spawn_consumer_actor(self->system(), std::move(consumer));
      self->monitor(actor);
      state.pipeline.consumers.push_back(actor);
      self->send(actor, pull_atom::value);
      spdlog::info("event=subscribed topic={} partition={} subscription={}", subscription.topic,
                   partition.partition_topic, subscription.subscription);
    }
  }
  state.pipeline.running = true;
  state.supervision.set_running(*state.context);
}

void subscribe_all(SinkSupervisor* self, std::uint64_t incarnation,
                   std::vector<connect::ConsumerConfig> configs) {
  auto results = std::make_shared<std::vector<std::pair<connect::ConsumerConfig, SubscribeResult>>>();
  auto remaining = std::make_shared<std::size_t>(configs.size());
  for (auto& config : configs) {
    self->request(self->state.broker_io, caf::infinite, SubscribeRequest{config})
        .then([=](SubscribeResult& result) {
          if (self->state.pipeline.incarnation != incarnation) return;
          if (result.error) {
            handle_failure(self, *result.error, "subscribe " + config.topic);
            return;
          }
          results->emplace_back(config, std::move(result));
          if (--*remaining == 0) spawn_consumers(self, incarnation, std::move(*results));
        });
  }
}

void start_pipeline(SinkSupervisor* self) {
  auto& state = self->state;
  const std::uint64_t incarnation = state.next_incarnation++;
  state.pipeline = Pipeline{};
  state.pipeline.incarnation = incarnation;
  state.supervision.set_starting(*state.context);

  const auto& config = state.context->config;
  RetrySupervisorConfig retry;
  retry.context = state.context;
  retry.backoff = std::make_shared<connect::Backoff>(config.retry);
  retry.dead_letter_router = state.dead_letter_router;
  retry.supervisor = caf::actor_cast<caf::actor>(self);
  state.pipeline.retry_supervisor = spawn_retry_supervisor(self->system(), std::move(retry));

  BatcherConfig batcher;
  batcher.batch_size = std::max<std::size_t>(1, config.processing.batch_size);
  batcher.batch_bytes = std::max<std::size_t>(1 << 20, config.delivery.max_inflight_bytes / 2);
  batcher.linger = std::chrono::milliseconds(config.processing.batch_timeout_ms);
  batcher.worker = state.worker;
  batcher.retry_supervisor = state.pipeline.retry_supervisor;
  state.pipeline.batcher = spawn_batcher(self->system(), std::move(batcher));
  self->monitor(state.pipeline.batcher);
  self->monitor(state.pipeline.retry_supervisor);

  self->request(state.worker, caf::infinite, init_atom::value).then([=](SinkInitResult& result) {
    if (self->state.pipeline.incarnation != incarnation) return;
    if (result.error) {
      handle_failure(self, *result.error, "initialize");
      return;
    }
    subscribe_all(self, incarnation, std::move(result.configs));
  });
}

// Closes every client consumer of the pipeline (their reader threads end, pending acks are
// flushed), then calls `then`.
void close_consumers(SinkSupervisor* self, std::function<void()> then) {
  auto& consumers = self->state.pipeline.consumers;
  if (consumers.empty()) {
    then();
    return;
  }
  auto remaining = std::make_shared<std::size_t>(consumers.size());
  auto done = [remaining, then] {
    if (--*remaining == 0) then();
  };
  for (auto& consumer : consumers) {
    self->request(consumer, std::chrono::seconds(10), close_atom::value)
        .then(
            [=](CloseRequest& request) {
              self->request(self->state.broker_io, caf::infinite, std::move(request))
                  .then([=] { done(); }, [=](const caf::error&) { done(); });
            },
            [=](const caf::error&) { done(); });
  }
}

void finish(SinkSupervisor* self, std::optional<connect::ConnectorError> failure) {
  auto& state = self->state;
  auto complete = [=] {
    auto& state = self->state;
    tear_down_pipeline(self);
    state.supervision.finish(self, *state.context, failure,
                             {state.worker, state.broker_io, state.dead_letter_router,
                              state.health_monitor});
  };
  close_consumers(self, [=] {
    self->request(self->state.dead_letter_router, std::chrono::seconds(10), close_atom::value)
        .then(
            [=](CloseRequest& request) {
              self->request(self->state.broker_io, caf::infinite, std::move(request))
                  .then([=] {
                    self->request(self->state.worker, caf::infinite, shutdown_atom::value)
                        .then([=] { complete(); }, [=](const caf::error&) { complete(); });
                  });
            },
            [=](const caf::error&) { complete(); });
  });
  (void)state;
}

void handle_failure(SinkSupervisor* self, const connect::ConnectorError& error,
                    const std::string& where) {
  auto& state = self->state;
  const auto decision = state.supervision.on_failure(*state.context, error, where);
  if (decision == SupervisionState::Decision::ignore) return;
  if (decision == SupervisionState::Decision::stop) {
    finish(self, error);
    return;
  }
  // Restart: drop the pipeline now, give the connector a clean shutdown, come back later.
  const auto delay = state.supervision.next_restart_delay();
  tear_down_pipeline(self);
  self->request(state.worker, caf::infinite, shutdown_atom::value).then([=] {
    self->delayed_send(self, delay, restart_atom::value);
  });
}

void drain(SinkSupervisor* self) {
  auto& state = self->state;
  if (!state.pipeline.running) {
    finish(self, std::nullopt);
    return;
  }
  const std::uint64_t incarnation = state.pipeline.incarnation;
  self->send(state.pipeline.batcher, drain_all_atom::value);
  auto remaining = std::make_shared<std::size_t>(state.pipeline.consumers.size());
  for (auto& consumer : state.pipeline.consumers) {
    self->request(consumer, caf::infinite, stop_atom::value)
        .then(
            [=](idle_atom) {
              if (self->state.pipeline.incarnation != incarnation) return;
              if (--*remaining == 0) finish(self, std::nullopt);
            },
            [=](const caf::error&) {
              if (self->state.pipeline.incarnation != incarnation) return;
              if (--*remaining == 0) finish(self, std::nullopt);
            });
  }
  if (state.pipeline.consumers.empty()) finish(self, std::nullopt);
}

}  // namespace

caf::actor spawn_sink_supervisor(caf::actor_system& system,
                                 std::shared_ptr<connect::SinkConnector> connector,
                                 ContextPtr context) {
  return system.spawn([connector, context](SinkSupervisor* self) -> caf::behavior {
    auto& state = self->state;
    state.context = context;
    state.connector = connector;
    state.supervision = SupervisionState(context->config, "sink");
    state.worker = spawn_sink_worker(self->system(), connector, context);
    state.broker_io = spawn_broker_io(self->system(), context);
    state.dead_letter_router = spawn_dead_letter_router(self->system(), {context, state.broker_io});
    HealthMonitorConfig health;
    health.context = context;
    health.worker = state.worker;
    health.supervisor = caf::actor_cast<caf::actor>(self);
    health.probe_interval =
        std::chrono::milliseconds(context->config.processing.health_check_interval_ms);
    state.health_monitor = spawn_health_monitor(self->system(), std::move(health));
    for (const auto& child : {state.worker, state.broker_io, state.dead_letter_router,
                              state.health_monitor}) {
      self->monitor(child);
    }
    self->set_down_handler([=](caf::down_msg& down) {
      auto& state = self->state;
      if (state.supervision.finished() || down.reason == caf::exit_reason::user_shutdown ||
          down.reason == caf::exit_reason::normal) {
        return;
      }
      handle_failure(self,
                     connect::ConnectorError::fatal("a runtime actor stopped unexpectedly: " +
                                                    self->system().render(down.reason)),
                     "supervision");
    });
    start_pipeline(self);
    return {
        [=](const ConnectorFailed& failed) { handle_failure(self, failed.error, failed.where); },
        [=](restart_atom) {
          if (self->state.supervision.finished() || self->state.supervision.draining()) return;
          start_pipeline(self);
        },
        [=](status_atom) { return self->state.supervision.status(*self->state.context); },
        [=](drain_atom) {
          auto& state = self->state;
          auto promise = self->make_response_promise();
          if (state.supervision.begin_drain(self, *state.context, promise)) drain(self);
          return promise;
        },
        [=](timeout_atom) {
          // The drain took longer than [shutdown] timeout_ms: stop waiting for in-flight work
          // (the broker redelivers whatever was not acked) and end now.
          auto& state = self->state;
          if (state.supervision.finished()) return;
          spdlog::warn("event=drain_timeout note=\"unfinished records will be redelivered\"");
          tear_down_pipeline(self);
          state.supervision.finish(self, *state.context, std::nullopt,
                                   {state.worker, state.broker_io, state.dead_letter_router,
                                    state.health_monitor});
        },
    };
  });
}

}  // namespace danube::runtime
