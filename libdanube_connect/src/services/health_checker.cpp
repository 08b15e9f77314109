#include "danube/services/health_checker.hpp"

#include <algorithm>

namespace danube::services {

std::string_view to_string(HealthStatus status) {
  switch (status) {
    case HealthStatus::healthy:
      return "healthy";
    case HealthStatus::degraded:
      return "degraded";
    case HealthStatus::unhealthy:
      return "unhealthy";
  }
  return "unhealthy";
}

HealthChecker::HealthChecker(std::uint32_t failure_threshold)
    : failure_threshold_(std::max<std::uint32_t>(failure_threshold, 1)) {}

void HealthChecker::record_success() {
  std::lock_guard lock(mutex_);
  consecutive_failures_ = 0;
  last_success_ = std::chrono::steady_clock::now();
}

HealthStatus HealthChecker::record_failure() {
  std::lock_guard lock(mutex_);
  ++consecutive_failures_;
  last_failure_ = std::chrono::steady_clock::now();
  return consecutive_failures_ >= failure_threshold_ ? HealthStatus::unhealthy
                                                     : HealthStatus::degraded;
}

HealthStatus HealthChecker::status() const {
  std::lock_guard lock(mutex_);
  if (consecutive_failures_ == 0) return HealthStatus::healthy;
  return consecutive_failures_ >= failure_threshold_ ? HealthStatus::unhealthy
                                                     : HealthStatus::degraded;
}

std::uint32_t HealthChecker::consecutive_failures() const {
  std::lock_guard lock(mutex_);
  return consecutive_failures_;
}

std::optional<std::chrono::steady_clock::duration> HealthChecker::time_since_last_success() const {
  std::lock_guard lock(mutex_);
  if (!last_success_) return std::nullopt;
  return std::chrono::steady_clock::now() - *last_success_;
}

std::optional<std::chrono::steady_clock::duration> HealthChecker::time_since_last_failure() const {
  std::lock_guard lock(mutex_);
  if (!last_failure_) return std::nullopt;
  return std::chrono::steady_clock::now() - *last_failure_;
}

}  // namespace danube::services
