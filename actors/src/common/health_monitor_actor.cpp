#include "health_monitor_actor.hpp"

#include <spdlog/spdlog.h>

#include "danube/services/health_checker.hpp"
#include "runtime_actor.hpp"

namespace danube::runtime {
namespace {

using health_detail::connectivity_atom;

struct HealthMonitorState {
  HealthMonitorConfig config;
  std::unique_ptr<services::HealthChecker> checker;
  bool reported_failure = false;
  bool probe_running = false;
  static inline const char* name = "danube-health-monitor";
};

using HealthMonitorActor = TypedStatefulActor<health_monitor_actor, HealthMonitorState>;

void record(HealthMonitorActor* self, bool ok, const std::string& detail) {
  auto& state = self->state;
  const RuntimeContext& context = *state.config.context;
  if (ok) {
    state.reported_failure = false;
    state.checker->record_success();
    context.health->set_status(services::HealthStatus::healthy);
    context.metrics->set_health(services::HealthStatus::healthy);
    return;
  }
  const auto status = state.checker->record_failure();
  context.health->set_status(status, detail);
  context.metrics->set_health(status);
  spdlog::warn("event=health_check_failed consecutive={} threshold={} detail=\"{}\"",
               state.checker->consecutive_failures(), state.checker->failure_threshold(), detail);
  if (status == services::HealthStatus::unhealthy && !state.reported_failure) {
    // Reported once per crossing; a success or a new pipeline incarnation re-arms it.
    state.reported_failure = true;
    self->send(state.config.supervisor,
               ConnectorFailed{connect::ConnectorError::fatal(
                                   "connector health check failed " +
                                   std::to_string(state.checker->consecutive_failures()) +
                                   " consecutive times: " + detail),
                               "health_check"});
  }
}

}  // namespace

health_monitor_actor spawn_health_monitor(caf::actor_system& system, HealthMonitorConfig config) {
  return system.spawn(
      [](HealthMonitorActor* self,
         HealthMonitorConfig config) -> health_monitor_actor::behavior_type {
        auto& state = self->state;
        state.config = std::move(config);
        state.checker = std::make_unique<services::HealthChecker>(
            state.config.context->config.processing.health_check_failure_threshold);
        state.config.context->metrics->set_health(services::HealthStatus::healthy);
        self->send(self, connectivity_atom::value);
        if (state.config.probe_interval.count() > 0) {
          self->delayed_send(self, state.config.probe_interval, probe_atom::value);
        }
        return {
            [=](connectivity_atom) {
              auto& state = self->state;
              state.config.context->health->set_connected(
                  state.config.context->client.is_connected());
              self->delayed_send(self, state.config.connectivity_interval,
                                 connectivity_atom::value);
            },
            [=](probe_atom) {
              auto& state = self->state;
              self->delayed_send(self, state.config.probe_interval, probe_atom::value);
              if (state.probe_running)
                return;  // the last one is still running: skip, don't pile up
              state.probe_running = true;
              self->request(state.config.worker, state.config.probe_interval, probe_atom::value)
                  .then(
                      [=](const HealthReport& report) {
                        self->state.probe_running = false;
                        record(self, report.ok, report.detail);
                      },
                      [=](const caf::error& error) {
                        auto& state = self->state;
                        state.probe_running = false;
                        const bool busy =
                            state.config.activity &&
                            state.config.activity->busy_within(state.config.probe_interval);
                        if (error == caf::sec::request_timeout && busy) {
                          spdlog::info("event=health_probe_deferred reason=connector_busy");
                          return;
                        }
                        record(self, false,
                               "health check did not answer: " + caf::to_string(error));
                      });
            },
            [=](reset_atom) {
              auto& state = self->state;
              state.reported_failure = false;
              state.checker = std::make_unique<services::HealthChecker>(
                  state.config.context->config.processing.health_check_failure_threshold);
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
