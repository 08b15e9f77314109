#include "runtime_supervisor.hpp"

#include <spdlog/spdlog.h>

#include "broker_io_actor.hpp"
#include "danube/runtime/embedding.hpp"
#include "dead_letter_router_actor.hpp"
#include "health_monitor_actor.hpp"
#include "messages.hpp"

namespace danube::runtime {

RuntimeSupervisor::RuntimeSupervisor(RuntimeActor* self, ContextPtr context, std::string kind,
                                     caf::actor connector, PipelineHooks hooks)
    : self_(self),
      context_(std::move(context)),
      supervision_(context_->config, std::move(kind)),
      hooks_(std::move(hooks)) {
  actors_.connector = std::move(connector);
  actors_.broker_io = spawn_broker_io(self->system(), context_);
  actors_.dead_letter_router =
      spawn_dead_letter_router(self->system(), {context_, actors_.broker_io});
  HealthMonitorConfig health;
  health.context = context_;
  health.worker = actors_.connector;
  health.supervisor = caf::actor_cast<caf::actor>(self);
  health.probe_interval =
      std::chrono::milliseconds(context_->config.processing.health_check_interval_ms);
  actors_.health_monitor = spawn_health_monitor(self->system(), std::move(health));
  for (const auto& actor :
       {actors_.connector, actors_.broker_io, actors_.dead_letter_router, actors_.health_monitor}) {
    self->monitor(actor);
  }
  self->set_down_handler([this](caf::down_msg& down) {
    if (supervision_.finished() || down.reason == caf::exit_reason::user_shutdown ||
        down.reason == caf::exit_reason::normal) {
      return;
    }
    fail(connect::ConnectorError::fatal("a runtime actor stopped unexpectedly: " +
                                        self_->system().render(down.reason)),
         "supervision");
  });
}

void RuntimeSupervisor::fail(const connect::ConnectorError& error, const std::string& where) {
  const auto decision = supervision_.on_failure(*context_, error, where);
  if (decision == SupervisionState::Decision::ignore) return;
  if (decision == SupervisionState::Decision::stop) {
    finish(error);
    return;
  }
  // Restart: drop the pipeline now (the broker redelivers what was not acked, sources poll
  // again what was not committed), give the connector a clean shutdown, come back later.
  const auto delay = supervision_.next_restart_delay();
  hooks_.tear_down();
  self_->request(actors_.connector, caf::infinite, shutdown_atom::value).then([this, delay] {
    self_->delayed_send(self_, delay, restart_atom::value);
  });
}

void RuntimeSupervisor::finish(std::optional<connect::ConnectorError> failure) {
  auto complete = [this, failure] {
    hooks_.tear_down();
    supervision_.finish(
        self_, *context_, failure,
        {actors_.connector, actors_.broker_io, actors_.dead_letter_router, actors_.health_monitor});
  };
  auto shutdown_connector = [this, complete] {
    self_->request(actors_.connector, caf::infinite, shutdown_atom::value)
        .then([complete] { complete(); }, [complete](const caf::error&) { complete(); });
  };
  auto close_dead_letters = [this, shutdown_connector] {
    self_->request(actors_.dead_letter_router, std::chrono::seconds(10), close_atom::value)
        .then(
            [this, shutdown_connector](CloseRequest& request) {
              self_->request(actors_.broker_io, caf::infinite, std::move(request))
                  .then([shutdown_connector] { shutdown_connector(); },
                        [shutdown_connector](const caf::error&) { shutdown_connector(); });
            },
            [shutdown_connector](const caf::error&) { shutdown_connector(); });
  };
  hooks_.close_clients(close_dead_letters);
}

caf::behavior RuntimeSupervisor::behavior() {
  return {
      [this](const ConnectorFailed& failed) { fail(failed.error, failed.where); },
      [this](restart_atom) {
        if (supervision_.finished() || supervision_.draining()) return;
        hooks_.start();
      },
      [this](status_atom) { return supervision_.status(*context_); },
      [this](drain_atom) {
        auto promise = self_->make_response_promise();
        if (supervision_.begin_drain(self_, *context_, promise)) hooks_.drain();
        return promise;
      },
      [this](timeout_atom) {
        // The drain took longer than [shutdown] timeout_ms: stop waiting and end now. What was
        // not acked is redelivered by the broker; what was not committed is polled again.
        if (supervision_.finished()) return;
        spdlog::warn("event=drain_timeout connector={} timeout_ms={}",
                     context_->config.connector_name, context_->config.shutdown.timeout_ms);
        hooks_.tear_down();
        supervision_.finish(self_, *context_, std::nullopt,
                            {actors_.connector, actors_.broker_io, actors_.dead_letter_router,
                             actors_.health_monitor});
      },
  };
}

}  // namespace danube::runtime
