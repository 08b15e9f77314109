#include "source_driver_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/runtime_actor.hpp"
#include "danube/common/backoff.hpp"
#include "danube/services/offset_store.hpp"
#include "publish_pacer.hpp"

namespace danube::runtime {
namespace {

// The thread a streaming source's start_streaming() runs on, until it returns.
using stream_atom = caf::atom_constant<caf::atom("stream")>;
using stream_runner_actor = caf::typed_actor<caf::reacts_to<stream_atom>>;

struct SourceDriverState {
  std::shared_ptr<connect::SourceConnector> connector;
  ContextPtr context;
  failure_listener_actor supervisor;
  envelope_listener_actor router;
  std::shared_ptr<ConnectorActivity> activity;
  std::uint64_t incarnation = 0;  // of the pipeline being fed
  std::optional<services::FileOffsetStore> offset_store;
  std::unique_ptr<Backoff> poll_backoff;
  std::uint32_t poll_failures = 0;
  std::shared_ptr<services::EnvelopeChannel> channel;
  stream_runner_actor stream_runner;
  std::size_t outstanding = 0;       // records handed to the router, not yet settled
  std::size_t read_ahead_limit = 0;  // from the router's Credit; its pacer's floor until then
  bool polling = false;
  bool paused = false;  // IntakePause: poll() is not called until resumed
  bool poll_scheduled = false;
  bool stopped = false;

  static inline const char* name = "danube-source-driver";
};

using DriverActor = TypedStatefulActor<source_driver_actor, SourceDriverState>;

SourceInitResult initialize(DriverActor* self) {
  auto& state = self->state;
  const RuntimeContext& context = *state.context;
  SourceInitResult result;
  try {
    state.offset_store.emplace(services::FileOffsetStore::for_connector(
        context.config.offsets.state_dir, context.config.connector_name));
    const auto resume = state.offset_store->load();
    spdlog::info("event=source_initialize connector={} resume_offsets={} store={}",
                 context.config.connector_name, resume.size(), state.offset_store->file().string());
    const ConnectorActivity::Call call(*state.activity);
    state.connector->initialize(connector_context(state.context, resume));
    result.configs = state.connector->producer_configs();
    if (result.configs.empty()) {
      throw connect::ConnectorError::configuration(
          "producer_configs() returned no topics; a source needs at least one");
    }
    for (const auto& config : result.configs) {
      connect::validate(config);
      context.metrics->declare_topic(config.topic);
    }
    result.mode = state.connector->mode();
    const auto mappings =
        services::producer_schema_mappings(context.config.schemas, result.configs);
    if (!mappings.empty()) {
      services::SchemaRegistrar registrar(*context.schema_registry);
      result.schemas = registrar.register_all(mappings);
    }
    if (result.mode == connect::SourceMode::streaming) {
      const std::size_t capacity =
          std::max<std::size_t>(1, std::min(context.config.processing.batch_size,
                                            context.config.delivery.max_inflight_records));
      state.channel = services::EnvelopeChannel::create(capacity);
      result.channel = state.channel;
    }
  } catch (...) {
    result.error = connect::error_from_current_exception("initialize source connector");
  }
  return result;
}

void schedule_poll(DriverActor* self, std::chrono::milliseconds delay) {
  auto& state = self->state;
  if (state.poll_scheduled || state.stopped) return;
  state.poll_scheduled = true;
  if (delay.count() == 0) {
    self->send(self, poll_atom::value);
  } else {
    self->delayed_send(self, delay, poll_atom::value);
  }
}

void poll_once(DriverActor* self) {
  auto& state = self->state;
  const RuntimeContext& context = *state.context;
  state.poll_scheduled = false;
  if (state.stopped || !state.polling || state.paused) return;  // resuming polls again
  if (state.outstanding >= state.read_ahead_limit) return;      // Credit resumes
  std::vector<connect::SourceEnvelope> envelopes;
  try {
    const ConnectorActivity::Call call(*state.activity);
    envelopes = state.connector->poll();
    state.poll_failures = 0;
  } catch (...) {
    const auto error = connect::error_from_current_exception("poll");
    context.metrics->record_failed("", connect::ErrorType::poll);
    if (!error.is_retryable()) {
      self->send(state.supervisor, ConnectorFailed{error, "poll", state.incarnation});
      state.polling = false;
      return;
    }
    ++state.poll_failures;
    const auto delay = state.poll_backoff->delay(state.poll_failures);
    spdlog::warn("event=poll_failed attempt={} retry_in_ms={} error=\"{}\"", state.poll_failures,
                 delay.count(), error.what());
    schedule_poll(self, delay);
    return;
  }
  if (envelopes.empty()) {
    schedule_poll(self, std::chrono::milliseconds(context.config.processing.poll_interval_ms));
    return;
  }
  state.outstanding += envelopes.size();
  self->send(state.router, Envelopes{std::move(envelopes)});
  schedule_poll(self, std::chrono::milliseconds(0));  // records came back: poll again at once
}

void start_streaming(DriverActor* self) {
  auto& state = self->state;
  // start_streaming may run the connector's receive loop itself, so it gets its own thread;
  // this one stays free for commit(), health_check() and shutdown().
  state.stream_runner = self->system().spawn<caf::detached>(
      [](TypedActor<stream_runner_actor>* runner,
         std::shared_ptr<connect::SourceConnector> connector, connect::SourceSender sender,
         failure_listener_actor supervisor,
         std::uint64_t incarnation) -> stream_runner_actor::behavior_type {
        return {
            [=](stream_atom) {
              try {
                connector->start_streaming(sender);
              } catch (...) {
                runner->send(
                    supervisor,
                    ConnectorFailed{connect::error_from_current_exception("start_streaming"),
                                    "start_streaming", incarnation});
              }
              runner->quit();
            },
        };
      },
      state.connector, state.channel->sender(), state.supervisor, state.incarnation);
  self->send(state.stream_runner, stream_atom::value);
}

}  // namespace

source_driver_actor spawn_source_driver(caf::actor_system& system,
                                        std::shared_ptr<connect::SourceConnector> connector,
                                        ContextPtr context, failure_listener_actor supervisor,
                                        std::shared_ptr<ConnectorActivity> activity) {
  return system.spawn<caf::detached>(
      [](DriverActor* self, std::shared_ptr<connect::SourceConnector> connector, ContextPtr context,
         failure_listener_actor supervisor,
         std::shared_ptr<ConnectorActivity> activity) -> source_driver_actor::behavior_type {
        auto& state = self->state;
        state.connector = connector;
        state.context = context;
        state.supervisor = supervisor;
        state.activity = std::move(activity);
        state.poll_backoff = std::make_unique<Backoff>(context->config.retry.backoff_policy());
        return {
            [=](init_atom) {
              auto& state = self->state;
              state.stopped = false;
              state.outstanding = 0;
              const auto& settings = state.context->config;
              state.read_ahead_limit =
                  publish_pacer_for(settings.processing.batch_size,
                                    settings.delivery.max_inflight_records,
                                    std::chrono::milliseconds(settings.shutdown.timeout_ms))
                      .limit();
              return initialize(self);
            },
            [=](poll_atom, envelope_listener_actor router, std::uint64_t incarnation) {
              auto& state = self->state;
              state.router = std::move(router);
              state.incarnation = incarnation;
              if (state.channel) {
                start_streaming(self);
              } else {
                state.polling = true;
                schedule_poll(self, std::chrono::milliseconds(0));
              }
            },
            [=](poll_atom) { poll_once(self); },
            [=](const Credit& credit) {
              auto& state = self->state;
              state.outstanding -= std::min(state.outstanding, credit.records);
              state.read_ahead_limit = credit.read_ahead_limit;
              if (state.polling && !state.paused && !state.poll_scheduled)
                schedule_poll(self, std::chrono::milliseconds(0));
            },
            [=](const IntakePause& pause) {
              auto& state = self->state;
              if (state.paused == pause.paused) return;
              state.paused = pause.paused;
              if (!state.paused && state.polling) schedule_poll(self, std::chrono::milliseconds(0));
            },
            [=](const CommitRequest& request) {
              auto& state = self->state;
              const RuntimeContext& context = *state.context;
              try {
                const ConnectorActivity::Call call(*state.activity);
                state.connector->commit(request.offsets);
              } catch (...) {
                // The records are in Danube; a connector that cannot acknowledge upstream will see
                // them again after a restart at worst.
                context.metrics->record_failed("", connect::ErrorType::commit);
                spdlog::warn("event=commit_failed error=\"{}\"",
                             connect::error_from_current_exception("commit").what());
              }
              try {
                state.offset_store->commit(request.offsets);
                context.counters->add(context.counters->committed, request.offsets.size());
              } catch (...) {
                spdlog::error("event=offset_store_failed error=\"{}\"",
                              connect::error_from_current_exception("save offsets").what());
              }
            },
            [=](probe_atom) -> HealthReport {
              try {
                self->state.connector->health_check();
                return HealthReport{true, {}};
              } catch (...) {
                return HealthReport{false,
                                    connect::error_from_current_exception("health_check").what()};
              }
            },
            [=](stop_atom) {
              auto& state = self->state;
              state.stopped = true;
              state.polling = false;
              if (state.channel) state.channel->close();
            },
            [=](shutdown_atom) {
              auto& state = self->state;
              state.stopped = true;  // a restart's scheduled polls must not reach the old router
              state.polling = false;
              // Closed first: a streaming connector blocked in send() on a full channel (nobody
              // drains it once the pipeline is torn down) returns, so its shutdown() can join
              // whatever thread sends.
              if (state.channel) state.channel->close();
              try {
                const ConnectorActivity::Call call(*state.activity);
                state.connector->shutdown();
              } catch (...) {
                spdlog::warn("event=connector_shutdown_failed error=\"{}\"",
                             connect::error_from_current_exception("shutdown").what());
              }
              state.channel.reset();
            },
        };
      },
      std::move(connector), std::move(context), std::move(supervisor), std::move(activity));
}

}  // namespace danube::runtime
