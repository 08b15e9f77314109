#include "supervision.hpp"

#include <spdlog/spdlog.h>

#include "messages.hpp"

namespace danube::runtime {

SupervisionState::SupervisionState(const connect::ConnectorConfig& config, std::string kind)
    : kind_(std::move(kind)),
      max_restarts_(config.supervision.max_restarts),
      restart_on_fatal_(config.supervision.on_fatal == connect::OnFatal::restart),
      drain_timeout_(config.shutdown.timeout_ms),
      restart_backoff_(std::make_shared<connect::Backoff>(
          std::chrono::milliseconds(config.supervision.restart_backoff_ms),
          std::chrono::milliseconds(config.supervision.max_restart_backoff_ms), 2.0, true,
          config.supervision.max_restarts)) {}

void SupervisionState::set_starting(const RuntimeContext& context) {
  if (state_ != "restarting") state_ = "starting";
  context.health->set_started(false);
}

void SupervisionState::set_running(const RuntimeContext& context) {
  state_ = "running";
  context.health->clear_failed();
  context.health->set_started(true);
  spdlog::info("event=runtime_running connector={} restarts={}", context.config.connector_name,
               restarts_);
}

SupervisionState::Decision SupervisionState::on_failure(const RuntimeContext& context,
                                                        const connect::ConnectorError& error,
                                                        const std::string& where) {
  if (finished_ || state_ == "restarting") return Decision::ignore;
  last_error_ = std::string(where) + ": " + error.what();
  spdlog::error("event=connector_failed connector={} where=\"{}\" error=\"{}\"",
                context.config.connector_name, where, error.what());
  context.health->mark_failed(last_error_);
  context.metrics->set_health(connect::HealthStatus::unhealthy);
  if (draining_ || !restart_on_fatal_ || restarts_ >= max_restarts_) {
    if (restart_on_fatal_ && restarts_ >= max_restarts_) {
      spdlog::error("event=restart_budget_exhausted connector={} restarts={}",
                    context.config.connector_name, restarts_);
    }
    return Decision::stop;
  }
  ++restarts_;
  state_ = "restarting";
  return Decision::restart;
}

std::chrono::milliseconds SupervisionState::next_restart_delay() {
  const auto delay = restart_backoff_->delay(restarts_);
  spdlog::info("event=restart_scheduled attempt={} delay_ms={}", restarts_, delay.count());
  return delay;
}

bool SupervisionState::begin_drain(RuntimeActor* self, const RuntimeContext& context,
                                   caf::response_promise promise) {
  if (finished_) {
    promise.deliver(status(context));
    return false;
  }
  drain_waiters_.push_back(std::move(promise));
  if (draining_) return false;
  draining_ = true;
  state_ = "draining";
  context.health->set_stopping(true);
  spdlog::info("event=drain_started connector={} timeout_ms={}", context.config.connector_name,
               drain_timeout_.count());
  self->delayed_send(self, drain_timeout_, timeout_atom::value);
  return true;
}

void SupervisionState::finish(RuntimeActor* self, const RuntimeContext& context,
                              const std::optional<connect::ConnectorError>& failure,
                              const std::vector<caf::actor>& children) {
  if (finished_) return;
  finished_ = true;
  state_ = failure ? "failed" : "stopped";
  context.health->set_started(false);
  context.metrics->set_health(false);
  const RuntimeStatus final_status = status(context);
  spdlog::info(
      "event=runtime_stopped connector={} state={} received={} processed={} "
      "dead_lettered={} restarts={}",
      context.config.connector_name, final_status.state, final_status.received,
      final_status.processed, final_status.dead_lettered, final_status.restarts);
  for (auto& waiter : drain_waiters_)
    waiter.deliver(final_status);
  drain_waiters_.clear();
  for (const auto& child : children) {
    if (child) self->send_exit(child, caf::exit_reason::user_shutdown);
  }
  self->quit(failure ? failure_exit_reason(*failure) : caf::error{});
}

RuntimeStatus SupervisionState::status(const RuntimeContext& context) const {
  RuntimeStatus status;
  status.connector = context.config.connector_name;
  status.kind = kind_;
  status.state = state_;
  status.restarts = restarts_;
  status.last_error = last_error_;
  context.counters->fill(status);
  return status;
}

caf::error failure_exit_reason(const connect::ConnectorError& error) {
  return caf::make_error(caf::sec::runtime_error, std::string(error.what()));
}

}  // namespace danube::runtime
