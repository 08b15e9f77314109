#include "source_supervisor_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/broker_io_actor.hpp"
#include "../common/dead_letter_router_actor.hpp"
#include "../common/health_monitor_actor.hpp"
#include "../common/messages.hpp"
#include "../common/supervision.hpp"
#include "danube/runtime/embedding.hpp"
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
  SupervisionState supervision;
  caf::actor driver;
  caf::actor broker_io;
  caf::actor dead_letter_router;
  caf::actor health_monitor;
  SourcePipeline pipeline;
  std::uint64_t next_incarnation = 1;

  static inline const char* name = "danube-source-supervisor";
};

using SourceSupervisor = caf::stateful_actor<SourceSupervisorState>;

void handle_failure(SourceSupervisor* self, const connect::ConnectorError& error,
                    const std::string& where);

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
  state.supervision.set_starting(*state.context);
  self->request(state.driver, caf::infinite, init_atom::value).then([=](SourceInitResult& result) {
    auto& state = self->state;
    if (state.pipeline.incarnation != incarnation) return;
    if (result.error) {
      handle_failure(self, *result.error, "initialize");
      return;
    }
    state.pipeline.tracker = spawn_offset_tracker(self->system(), state.context, state.driver);
    SourceRouterConfig router;
    router.context = state.context;
    router.producers = std::move(result.configs);
    router.schemas = std::move(result.schemas);
    router.channel = result.channel;
    router.driver = state.driver;
    router.offset_tracker = state.pipeline.tracker;
    router.broker_io = state.broker_io;
    router.dead_letter_router = state.dead_letter_router;
    router.supervisor = caf::actor_cast<caf::actor>(self);
    state.pipeline.router = spawn_source_router(self->system(), std::move(router));
    self->monitor(state.pipeline.router);
    self->monitor(state.pipeline.tracker);
    self->send(state.driver, poll_atom::value, state.pipeline.router);
    state.pipeline.running = true;
    spdlog::info("event=source_started connector={} mode={}", state.context->config.connector_name,
                 connect::to_string(result.mode));
    state.supervision.set_running(*state.context);
  });
}

void finish(SourceSupervisor* self, std::optional<connect::ConnectorError> failure) {
  auto complete = [=] {
    auto& state = self->state;
    tear_down_pipeline(self);
    state.supervision.finish(self, *state.context, failure,
                             {state.driver, state.broker_io, state.dead_letter_router,
                              state.health_monitor});
  };
  auto shutdown_connector = [=] {
    self->request(self->state.driver, caf::infinite, shutdown_atom::value)
        .then([=] { complete(); }, [=](const caf::error&) { complete(); });
  };
  auto close_dead_letters = [=] {
    self->request(self->state.dead_letter_router, std::chrono::seconds(10), close_atom::value)
        .then(
            [=](CloseRequest& request) {
              self->request(self->state.broker_io, caf::infinite, std::move(request))
                  .then([=] { shutdown_connector(); },
                        [=](const caf::error&) { shutdown_connector(); });
            },
            [=](const caf::error&) { shutdown_connector(); });
  };
  if (!self->state.pipeline.router) {
    close_dead_letters();
    return;
  }
  self->request(self->state.pipeline.router, std::chrono::seconds(30), close_atom::value)
      .then([=] { close_dead_letters(); }, [=](const caf::error&) { close_dead_letters(); });
}

void handle_failure(SourceSupervisor* self, const connect::ConnectorError& error,
                    const std::string& where) {
  auto& state = self->state;
  const auto decision = state.supervision.on_failure(*state.context, error, where);
  if (decision == SupervisionState::Decision::ignore) return;
  if (decision == SupervisionState::Decision::stop) {
    finish(self, error);
    return;
  }
  const auto delay = state.supervision.next_restart_delay();
  tear_down_pipeline(self);
  self->request(state.driver, caf::infinite, stop_atom::value).then([=] {
    self->request(self->state.driver, caf::infinite, shutdown_atom::value).then([=] {
      self->delayed_send(self, delay, restart_atom::value);
    });
  });
}

void drain(SourceSupervisor* self) {
  auto& state = self->state;
  if (!state.pipeline.running) {
    finish(self, std::nullopt);
    return;
  }
  const std::uint64_t incarnation = state.pipeline.incarnation;
  auto still_current = [=] { return self->state.pipeline.incarnation == incarnation; };
  // Intake first, then everything already handed over is published, then committed.
  self->request(state.driver, caf::infinite, stop_atom::value).then([=] {
    if (!still_current()) return;
    self->request(self->state.pipeline.router, caf::infinite, stop_atom::value).then([=](idle_atom) {
      if (!still_current()) return;
      self->request(self->state.pipeline.tracker, caf::infinite, stop_atom::value)
          .then([=](idle_atom) {
            if (still_current()) finish(self, std::nullopt);
          });
    });
  });
}

}  // namespace

caf::actor spawn_source_supervisor(caf::actor_system& system,
                                   std::shared_ptr<connect::SourceConnector> connector,
                                   ContextPtr context) {
  return system.spawn([connector, context](SourceSupervisor* self) -> caf::behavior {
    auto& state = self->state;
    state.context = context;
    state.supervision = SupervisionState(context->config, "source");
    state.driver =
        spawn_source_driver(self->system(), connector, context, caf::actor_cast<caf::actor>(self));
    state.broker_io = spawn_broker_io(self->system(), context);
    state.dead_letter_router = spawn_dead_letter_router(self->system(), {context, state.broker_io});
    HealthMonitorConfig health;
    health.context = context;
    health.worker = state.driver;
    health.supervisor = caf::actor_cast<caf::actor>(self);
    health.probe_interval =
        std::chrono::milliseconds(context->config.processing.health_check_interval_ms);
    state.health_monitor = spawn_health_monitor(self->system(), std::move(health));
    for (const auto& child :
         {state.driver, state.broker_io, state.dead_letter_router, state.health_monitor}) {
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
          // The drain took longer than [shutdown] timeout_ms: end now. Offsets of records not
          // yet published were not committed, so they are polled again after a restart.
          auto& state = self->state;
          if (state.supervision.finished()) return;
          spdlog::warn("event=drain_timeout note=\"uncommitted records will be polled again\"");
          tear_down_pipeline(self);
          state.supervision.finish(self, *state.context, std::nullopt,
                                   {state.driver, state.broker_io, state.dead_letter_router,
                                    state.health_monitor});
        },
    };
  });
}

}  // namespace danube::runtime
