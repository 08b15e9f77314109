#include "runtime_supervisor.hpp"

#include <spdlog/spdlog.h>

#include "danube/runtime/embedding.hpp"

namespace danube::runtime {
namespace {

// Fractions of [shutdown] timeout_ms at which each phase of the orderly end must be done.
constexpr double kDrainEnds = 0.6;
constexpr double kClientsClosed = 0.75;
constexpr double kConnectorShutDown = 0.9;

const char* name_of(int child) {
  static constexpr const char* kNames[] = {"connector", "broker_io", "dead_letter_router",
                                           "health_monitor"};
  return kNames[child];
}

}  // namespace

RuntimeSupervisor::RuntimeSupervisor(SupervisorSelf* self, ContextPtr context, std::string kind,
                                     PipelineHooks hooks)
    : self_(self),
      context_(std::move(context)),
      supervision_(context_->config, std::move(kind)),
      hooks_(std::move(hooks)) {
  child_down_.fill(true);
  spawn_missing_children();
  self->set_down_handler([this](caf::down_msg& down) { on_down(down); });
}

void RuntimeSupervisor::spawn_missing_children() {
  auto& system = self_->system();
  auto replace = [this](Child child, auto& handle, auto fresh) {
    if (handle && !child_down_[static_cast<int>(child)]) {
      self_->send_exit(handle, caf::exit_reason::user_shutdown);  // depends on a respawned one
    }
    if (!child_down_[static_cast<int>(child)] || handle) {
      spdlog::warn("event=runtime_child_respawned connector={} child={}",
                   context_->config.connector_name, name_of(static_cast<int>(child)));
    }
    handle = std::move(fresh);
    child_down_[static_cast<int>(child)] = false;
    self_->monitor(handle);
  };
  // Dependants are respawned with what they depend on: the dead-letter router holds broker
  // I/O's handle, the health monitor the connector's.
  const bool new_broker_io = child_down_[static_cast<int>(Child::broker_io)];
  if (new_broker_io)
    replace(Child::broker_io, actors_.broker_io, spawn_broker_io(system, context_));
  if (new_broker_io || child_down_[static_cast<int>(Child::dead_letter_router)]) {
    replace(Child::dead_letter_router, actors_.dead_letter_router,
            spawn_dead_letter_router(system, {context_, actors_.broker_io, runtime_stop()}));
  }
  const bool new_connector = child_down_[static_cast<int>(Child::connector)];
  if (new_connector) {
    replace(Child::connector, actors_.connector, hooks_.spawn_connector(activity_));
  }
  if (new_connector || child_down_[static_cast<int>(Child::health_monitor)]) {
    HealthMonitorConfig health;
    health.context = context_;
    health.worker = actors_.connector;
    health.supervisor = self_;
    health.activity = activity_;
    health.probe_interval =
        std::chrono::milliseconds(context_->config.processing.health_check_interval_ms);
    replace(Child::health_monitor, actors_.health_monitor,
            spawn_health_monitor(system, std::move(health)));
  }
}

std::optional<RuntimeSupervisor::Child> RuntimeSupervisor::child_at(
    const caf::actor_addr& address) const {
  if (address == actors_.connector.address()) return Child::connector;
  if (address == actors_.broker_io.address()) return Child::broker_io;
  if (address == actors_.dead_letter_router.address()) return Child::dead_letter_router;
  if (address == actors_.health_monitor.address()) return Child::health_monitor;
  return std::nullopt;
}

void RuntimeSupervisor::on_down(const caf::down_msg& down) {
  if (const auto child = child_at(down.source)) {
    child_down_[static_cast<int>(*child)] = true;
    if (finishing_ || supervision_.finished()) return;
    spdlog::error("event=runtime_child_down connector={} child={} reason=\"{}\"",
                  context_->config.connector_name, name_of(static_cast<int>(*child)),
                  self_->system().render(down.reason));
    fail(connect::ConnectorError::fatal(std::string("the runtime's ") +
                                        name_of(static_cast<int>(*child)) +
                                        " actor stopped: " + self_->system().render(down.reason)),
         "supervision", 0, FailureOrigin::runtime);
    return;
  }
  // A pipeline actor. Torn-down ones exit with user_shutdown; one of an older incarnation that
  // died on its own is no failure of the current one.
  if (down.reason == caf::exit_reason::user_shutdown || down.reason == caf::exit_reason::normal ||
      !hooks_.owns(down.source)) {
    return;
  }
  fail(connect::ConnectorError::fatal("a pipeline actor stopped: " +
                                      self_->system().render(down.reason)),
       "supervision", incarnation_, FailureOrigin::runtime);
}

void RuntimeSupervisor::start() {
  pipeline_stop_ = std::stop_source();
  ++incarnation_;
  supervision_.set_starting(*context_);
  hooks_.start(incarnation_);
}

bool RuntimeSupervisor::is_current(std::uint64_t incarnation) const {
  return incarnation == incarnation_ && !finishing_ && !supervision_.finished() &&
         !supervision_.restart_pending();
}

void RuntimeSupervisor::pipeline_running(std::uint64_t incarnation) {
  if (!is_current(incarnation)) return;
  supervision_.set_running(*context_);
  // A new incarnation starts with a clean health record: later failures are counted afresh.
  self_->send(actors_.health_monitor, reset_atom::value);
}

void RuntimeSupervisor::fail(const connect::ConnectorError& error, const std::string& where,
                             std::uint64_t incarnation, FailureOrigin origin) {
  if (incarnation != 0 && incarnation != incarnation_) {
    spdlog::debug("event=stale_failure_ignored incarnation={} current={} error=\"{}\"", incarnation,
                  incarnation_, error.what());
    return;
  }
  if (finishing_) return;
  const auto decision =
      supervision_.on_failure(*context_, error, where, origin, self_->clock().now());
  if (decision == SupervisionState::Decision::ignore) return;
  if (decision == SupervisionState::Decision::stop) {
    finish(error);
    return;
  }
  restart_later();
}

void RuntimeSupervisor::restart_later() {
  // Drop the pipeline now (the broker redelivers what was not acked, sources poll again what
  // was not committed), give the connector a clean shutdown, come back after the backoff.
  const auto delay = supervision_.next_restart_delay();
  pipeline_stop_.request_stop();
  hooks_.tear_down();
  auto schedule = [this, delay] { self_->delayed_send(self_, delay, restart_atom::value); };
  if (child_down_[static_cast<int>(Child::connector)]) {
    schedule();
    return;
  }
  const auto shutdown_budget = std::chrono::milliseconds(context_->config.shutdown.timeout_ms);
  self_->request(actors_.connector, shutdown_budget, shutdown_atom::value)
      .then([schedule] { schedule(); },
            [this, schedule](const caf::error& error) {
              spdlog::warn("event=connector_shutdown_failed phase=restart error=\"{}\"",
                           self_->system().render(error));
              schedule();
            });
}

RuntimeStatus RuntimeSupervisor::pause_intake(bool paused) {
  const bool was_paused = supervision_.paused();
  if (!finishing_ && supervision_.set_paused(*context_, paused) && was_paused != paused) {
    hooks_.set_paused(paused);
  }
  return supervision_.status(*context_);
}

void RuntimeSupervisor::begin_shutdown_budget() {
  if (!shutdown_started_) shutdown_started_ = Clock::now();
}

RuntimeSupervisor::Clock::time_point RuntimeSupervisor::budget_mark(double fraction) const {
  const auto budget = std::chrono::milliseconds(context_->config.shutdown.timeout_ms);
  return *shutdown_started_ + std::chrono::duration_cast<Clock::duration>(budget * fraction);
}

std::chrono::milliseconds RuntimeSupervisor::until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

std::vector<caf::actor_addr> RuntimeSupervisor::children() const {
  return {actors_.connector.address(), actors_.broker_io.address(),
          actors_.dead_letter_router.address(), actors_.health_monitor.address()};
}

void RuntimeSupervisor::finish(std::optional<connect::ConnectorError> failure) {
  if (finishing_ || supervision_.finished()) return;
  finishing_ = true;
  begin_shutdown_budget();
  if (!failure) failure = supervision_.unresolved_failure();
  // Broker I/O may be waiting for a broker that is gone; the closing steps need it now.
  pipeline_stop_.request_stop();
  runtime_stop_.request_stop();

  const auto clients_closed = budget_mark(kClientsClosed);
  const auto connector_shut_down = budget_mark(kConnectorShutDown);
  auto complete = [this, failure] {
    hooks_.tear_down();
    supervision_.finish(self_, *context_, failure, children());
  };
  auto shutdown_connector = [this, complete, connector_shut_down] {
    if (child_down_[static_cast<int>(Child::connector)]) {
      complete();
      return;
    }
    self_->request(actors_.connector, until(connector_shut_down), shutdown_atom::value)
        .then([complete] { complete(); },
              [this, complete](const caf::error& error) {
                spdlog::error("event=shutdown_step_failed step=connector_shutdown error=\"{}\"",
                              self_->system().render(error));
                supervision_.mark_incomplete("connector_shutdown");
                complete();
              });
  };
  auto close_dead_letters = [this, shutdown_connector, clients_closed] {
    auto step_failed = [this, shutdown_connector](const caf::error& error) {
      if (error != caf::sec::request_receiver_down) {
        spdlog::error("event=shutdown_step_failed step=close_dead_letter_producer error=\"{}\"",
                      self_->system().render(error));
        supervision_.mark_incomplete("close_dead_letter_producer");
      }
      shutdown_connector();
    };
    self_->request(actors_.dead_letter_router, until(clients_closed), close_atom::value)
        .then(
            [this, shutdown_connector, step_failed, clients_closed](CloseRequest& request) {
              request.deadline = clients_closed;
              self_->request(actors_.broker_io, until(clients_closed), std::move(request))
                  .then([shutdown_connector] { shutdown_connector(); }, step_failed);
            },
            step_failed);
  };
  hooks_.close_clients(clients_closed, close_dead_letters);
}

supervisor_actor::behavior_type RuntimeSupervisor::behavior() {
  return {
      [this](const ConnectorFailed& failed) {
        fail(failed.error, failed.where, failed.incarnation, FailureOrigin::connector);
      },
      [this](restart_atom) {
        if (finishing_ || supervision_.finished() || supervision_.draining()) return;
        spawn_missing_children();
        start();
      },
      [this](status_atom) { return supervision_.status(*context_); },
      [this](pause_atom) { return pause_intake(true); },
      [this](resume_atom) { return pause_intake(false); },
      [this](children_atom) { return children(); },
      [this](drain_atom) {
        auto promise = self_->make_response_promise<RuntimeStatus>();
        if (supervision_.begin_drain(*context_, promise)) {
          begin_shutdown_budget();
          self_->delayed_send(self_, until(budget_mark(kDrainEnds)), timeout_atom::value);
          hooks_.drain();
        }
        return promise;
      },
      [this](timeout_atom) {
        // The drain took its share of [shutdown] timeout_ms: stop waiting and end now. What was
        // not acked is redelivered by the broker; what was not committed is polled again.
        if (finishing_ || supervision_.finished()) return;
        spdlog::warn("event=drain_timeout connector={} timeout_ms={}",
                     context_->config.connector_name, context_->config.shutdown.timeout_ms);
        supervision_.mark_incomplete("drain");
        finish(std::nullopt);
      },
  };
}

}  // namespace danube::runtime
