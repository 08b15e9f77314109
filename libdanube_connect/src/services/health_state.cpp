#include "danube/services/health_state.hpp"

namespace danube::services {

HealthState::HealthState(std::string connector_name) {
  state_.connector = std::move(connector_name);
}

void HealthState::set_started(bool started) {
  std::lock_guard lock(mutex_);
  state_.started = started;
}

void HealthState::set_connected(bool connected) {
  std::lock_guard lock(mutex_);
  state_.connected = connected;
}

void HealthState::set_stopping(bool stopping) {
  std::lock_guard lock(mutex_);
  state_.stopping = stopping;
}

void HealthState::set_paused(bool paused) {
  std::lock_guard lock(mutex_);
  state_.paused = paused;
}

void HealthState::set_status(HealthStatus status, std::string detail) {
  std::lock_guard lock(mutex_);
  state_.status = status;
  if (!state_.failed) state_.detail = std::move(detail);
}

void HealthState::record_loss(std::uint64_t messages, std::string detail) {
  std::lock_guard lock(mutex_);
  state_.messages_lost += messages;
  loss_detail_ = std::move(detail);
}

void HealthState::mark_failed(std::string reason) {
  std::lock_guard lock(mutex_);
  state_.failed = true;
  state_.detail = std::move(reason);
}

void HealthState::clear_failed() {
  std::lock_guard lock(mutex_);
  state_.failed = false;
  state_.detail.clear();
}

HealthSnapshot HealthState::snapshot() const {
  std::lock_guard lock(mutex_);
  HealthSnapshot copy = state_;
  if (copy.messages_lost > 0 && copy.status == HealthStatus::healthy) {
    copy.status = HealthStatus::degraded;
    if (!copy.failed) copy.detail = loss_detail_;
  }
  copy.uptime = std::chrono::steady_clock::now() - created_;
  return copy;
}

}  // namespace danube::services
