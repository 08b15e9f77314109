#include "source_supervisor_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/messages.hpp"
#include "../common/runtime_actor.hpp"
#include "../common/runtime_supervisor.hpp"
#include "offset_tracker_actor.hpp"
#include "source_driver_actor.hpp"
#include "source_router_actor.hpp"

namespace danube::runtime {
namespace {

struct SourcePipeline {
  std::uint64_t incarnation = 0;
  caf::actor router;
  caf::actor tracker;
  bool running = false;
};

struct SourceSupervisorState {
  ContextPtr context;
  std::unique_ptr<RuntimeSupervisor> runtime;
  SourcePipeline pipeline;
  std::uint64_t next_incarnation = 1;

  static inline const char* name = "danube-source-supervisor";
};

using SourceSupervisor = RuntimeStatefulActor<SourceSupervisorState>;

void tear_down_pipeline(SourceSupervisor* self) {
  auto& pipeline = self->state.pipeline;
  if (pipeline.router) self->send_exit(pipeline.router, caf::exit_reason::user_shutdown);
  if (pipeline.tracker) self->send_exit(pipeline.tracker, caf::exit_reason::user_shutdown);
  pipeline = SourcePipeline{};
}

void start_pipeline(SourceSupervisor* self) {
  auto& state = self->state;
  const std::uint64_t incarnation = state.next_incarnation++;
  state.pipeline = SourcePipeline{};
  state.pipeline.incarnation = incarnation;
  state.runtime->supervision().set_starting(*state.context);
  const RuntimeActors& actors = state.runtime->actors();
  self->request(actors.connector, caf::infinite, init_atom::value)
      .then([=](SourceInitResult& result) {
        auto& state = self->state;
        if (state.pipeline.incarnation != incarnation) return;
        if (result.error) {
          state.runtime->fail(*result.error, "initialize");
          return;
        }
        const RuntimeActors& actors = state.runtime->actors();
        state.pipeline.tracker =
            spawn_offset_tracker(self->system(), state.context, actors.connector);
        SourceRouterConfig router;
        router.context = state.context;
        router.producers = std::move(result.configs);
        router.schemas = std::move(result.schemas);
        router.channel = result.channel;
        router.driver = actors.connector;
        router.offset_tracker = state.pipeline.tracker;
        router.broker_io = actors.broker_io;
        router.dead_letter_router = actors.dead_letter_router;
        router.supervisor = caf::actor_cast<caf::actor>(self);
        state.pipeline.router = spawn_source_router(self->system(), std::move(router));
        self->monitor(state.pipeline.router);
        self->monitor(state.pipeline.tracker);
        self->send(actors.connector, poll_atom::value, state.pipeline.router);
        state.pipeline.running = true;
        spdlog::info("event=source_started connector={} mode={}",
                     state.context->config.connector_name, connect::to_string(result.mode));
        state.runtime->supervision().set_running(*state.context);
      });
}

// The router's producer actors flush and close their client producers, then `then` runs.
void close_producers(SourceSupervisor* self, std::function<void()> then) {
  if (!self->state.pipeline.router) {
    then();
    return;
  }
  self->request(self->state.pipeline.router, std::chrono::seconds(30), close_atom::value)
      .then([then] { then(); }, [then](const caf::error&) { then(); });
}

// Intake first, then everything already handed over is published, then committed.
void drain(SourceSupervisor* self) {
  auto& state = self->state;
  if (!state.pipeline.running) {
    state.runtime->finish(std::nullopt);
    return;
  }
  const std::uint64_t incarnation = state.pipeline.incarnation;
  auto still_current = [=] { return self->state.pipeline.incarnation == incarnation; };
  self->request(state.runtime->actors().connector, caf::infinite, stop_atom::value).then([=] {
    if (!still_current()) return;
    self->request(self->state.pipeline.router, caf::infinite, stop_atom::value)
        .then([=](idle_atom) {
          if (!still_current()) return;
          self->request(self->state.pipeline.tracker, caf::infinite, stop_atom::value)
              .then([=](idle_atom) {
                if (still_current()) self->state.runtime->finish(std::nullopt);
              });
        });
  });
}

}  // namespace

caf::actor spawn_source_supervisor(caf::actor_system& system,
                                   std::shared_ptr<connect::SourceConnector> connector,
                                   ContextPtr context) {
  return system.spawn(
      [](SourceSupervisor* self, std::shared_ptr<connect::SourceConnector> connector,
         ContextPtr context) -> caf::behavior {
        auto& state = self->state;
        state.context = context;
        PipelineHooks hooks;
        hooks.start = [self] { start_pipeline(self); };
        hooks.tear_down = [self] { tear_down_pipeline(self); };
        hooks.drain = [self] { drain(self); };
        hooks.close_clients = [self](std::function<void()> then) {
          close_producers(self, std::move(then));
        };
        auto driver = spawn_source_driver(self->system(), connector, context,
                                          caf::actor_cast<caf::actor>(self));
        state.runtime = std::make_unique<RuntimeSupervisor>(self, context, "source",
                                                            std::move(driver), std::move(hooks));
        start_pipeline(self);
        return state.runtime->behavior();
      },
      std::move(connector), std::move(context));
}

}  // namespace danube::runtime
