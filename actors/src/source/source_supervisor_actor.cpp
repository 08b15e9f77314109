#include "source_supervisor_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/runtime_actor.hpp"
#include "../common/runtime_supervisor.hpp"
#include "offset_tracker_actor.hpp"
#include "source_driver_actor.hpp"
#include "source_router_actor.hpp"

namespace danube::runtime {
namespace {

struct SourcePipeline {
  std::uint64_t incarnation = 0;
  source_router_actor router;
  offset_tracker_actor tracker;
  bool running = false;
};

struct SourceSupervisorState {
  ContextPtr context;
  std::unique_ptr<RuntimeSupervisor> runtime;
  source_driver_actor driver;  // the runtime's connector actor, with the source's own messages
  SourcePipeline pipeline;

  static inline const char* name = "danube-source-supervisor";
};

using SourceSupervisor = TypedStatefulActor<supervisor_actor, SourceSupervisorState>;

bool is_current(SourceSupervisor* self, std::uint64_t incarnation) {
  return self->state.pipeline.incarnation == incarnation &&
         self->state.runtime->is_current(incarnation);
}

void tear_down_pipeline(SourceSupervisor* self) {
  auto& pipeline = self->state.pipeline;
  if (pipeline.router) self->send_exit(pipeline.router, caf::exit_reason::user_shutdown);
  if (pipeline.tracker) self->send_exit(pipeline.tracker, caf::exit_reason::user_shutdown);
  pipeline = SourcePipeline{};
}

bool owns(SourceSupervisor* self, const caf::actor_addr& actor) {
  const auto& pipeline = self->state.pipeline;
  return actor == pipeline.router.address() || actor == pipeline.tracker.address();
}

void start_pipeline(SourceSupervisor* self, std::uint64_t incarnation) {
  auto& state = self->state;
  state.pipeline = SourcePipeline{};
  state.pipeline.incarnation = incarnation;
  self->request(state.driver, caf::infinite, init_atom::value)
      .then(
          [=](SourceInitResult& result) {
            auto& state = self->state;
            if (!is_current(self, incarnation)) return;
            if (result.error) {
              state.runtime->fail(*result.error, "initialize", incarnation);
              return;
            }
            const RuntimeActors& actors = state.runtime->actors();
            state.pipeline.tracker =
                spawn_offset_tracker(self->system(), state.context, state.driver);
            SourceRouterConfig router;
            router.context = state.context;
            router.producers = std::move(result.configs);
            router.schemas = std::move(result.schemas);
            router.channel = result.channel;
            router.driver = state.driver;
            router.offset_tracker = state.pipeline.tracker;
            router.broker_io = actors.broker_io;
            router.dead_letter_router = actors.dead_letter_router;
            router.supervisor = self;
            router.incarnation = incarnation;
            router.stop = state.runtime->pipeline_stop();
            router.paused = state.runtime->paused();
            state.pipeline.router = spawn_source_router(self->system(), std::move(router));
            self->monitor(state.pipeline.router);
            self->monitor(state.pipeline.tracker);
            // The driver outlives pipelines (and may have been respawned): it learns the pause
            // state before it starts polling for this one.
            self->send(state.driver, IntakePause{state.runtime->paused()});
            self->send(state.driver, poll_atom::value,
                       envelope_listener_actor{state.pipeline.router}, incarnation);
            state.pipeline.running = true;
            spdlog::info("event=source_started connector={} mode={}",
                         state.context->config.connector_name, connect::to_string(result.mode));
            state.runtime->pipeline_running(incarnation);
          },
          [=](const caf::error& error) {
            if (!is_current(self, incarnation)) return;
            self->state.runtime->fail(
                connect::ConnectorError::fatal("initialize: " + self->system().render(error)),
                "initialize", incarnation);
          });
}

// The router's producer actors flush and close their client producers until `deadline`, then
// `then` runs.
void close_producers(SourceSupervisor* self, std::chrono::steady_clock::time_point deadline,
                     std::function<void()> then) {
  if (!self->state.pipeline.router) {
    then();
    return;
  }
  const auto timeout = std::max(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now()),
                                std::chrono::milliseconds(1));
  self->request(self->state.pipeline.router, timeout, close_atom::value, deadline)
      .then([then] { then(); },
            [self, then](const caf::error& error) {
              if (error != caf::sec::request_receiver_down) {
                spdlog::error("event=shutdown_step_failed step=close_producers error=\"{}\"",
                              self->system().render(error));
                self->state.runtime->supervision().mark_incomplete("close_producers");
              }
              then();
            });
}

// Intake first, then everything already handed over is published, then committed. Each step
// waits as long as it takes: the drain timer of the shutdown budget ends the wait.
void drain(SourceSupervisor* self) {
  auto& state = self->state;
  if (!state.pipeline.running) {
    state.runtime->finish(std::nullopt);
    return;
  }
  const std::uint64_t incarnation = state.pipeline.incarnation;
  auto still_current = [=] { return self->state.pipeline.incarnation == incarnation; };
  // A step whose actor is gone cannot finish the drain: end with what was done.
  auto give_up = [=](const char* step) {
    return [=](const caf::error& error) {
      if (!still_current()) return;
      spdlog::error("event=shutdown_step_failed step={} error=\"{}\"", step,
                    self->system().render(error));
      self->state.runtime->supervision().mark_incomplete(step);
      self->state.runtime->finish(std::nullopt);
    };
  };
  // From now on every published record is committed at once: a drain cut short by the budget
  // still commits what it published, so a restart polls only the rest again.
  if (state.pipeline.tracker) self->send(state.pipeline.tracker, drain_all_atom::value);
  self->request(state.driver, caf::infinite, stop_atom::value)
      .then(
          [=] {
            if (!still_current()) return;
            self->request(self->state.pipeline.router, caf::infinite, stop_atom::value)
                .then(
                    [=](idle_atom) {
                      if (!still_current()) return;
                      self->request(self->state.pipeline.tracker, caf::infinite, stop_atom::value)
                          .then(
                              [=](idle_atom) {
                                if (still_current()) self->state.runtime->finish(std::nullopt);
                              },
                              give_up("commit_offsets"));
                    },
                    give_up("publish_in_flight"));
          },
          give_up("stop_intake"));
}

}  // namespace

supervisor_actor spawn_source_supervisor(caf::actor_system& system,
                                         std::shared_ptr<connect::SourceConnector> connector,
                                         ContextPtr context) {
  return system.spawn(
      [](SourceSupervisor* self, std::shared_ptr<connect::SourceConnector> connector,
         ContextPtr context) -> supervisor_actor::behavior_type {
        auto& state = self->state;
        state.context = context;
        PipelineHooks hooks;
        hooks.start = [self](std::uint64_t incarnation) { start_pipeline(self, incarnation); };
        hooks.tear_down = [self] { tear_down_pipeline(self); };
        hooks.drain = [self] { drain(self); };
        hooks.close_clients = [self](std::chrono::steady_clock::time_point deadline,
                                     std::function<void()> then) {
          close_producers(self, deadline, std::move(then));
        };
        hooks.owns = [self](const caf::actor_addr& actor) { return owns(self, actor); };
        hooks.set_paused = [self](bool paused) {
          auto& state = self->state;
          if (state.driver) self->send(state.driver, IntakePause{paused});
          if (state.pipeline.router) self->send(state.pipeline.router, IntakePause{paused});
        };
        hooks.spawn_connector = [self, connector,
                                 context](std::shared_ptr<ConnectorActivity> activity) {
          self->state.driver =
              spawn_source_driver(self->system(), connector, context, self, std::move(activity));
          return connector_worker_actor{self->state.driver};
        };
        state.runtime =
            std::make_unique<RuntimeSupervisor>(self, context, "source", std::move(hooks));
        state.runtime->start();
        return state.runtime->behavior();
      },
      std::move(connector), std::move(context));
}

}  // namespace danube::runtime
