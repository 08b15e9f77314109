#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string_view>

namespace danube::services {

enum class HealthStatus { healthy, degraded, unhealthy };

// "healthy", "degraded", "unhealthy".
std::string_view to_string(HealthStatus status);

// Tracks consecutive health-check failures: healthy after a success, degraded after a failure,
// unhealthy once `failure_threshold` failures happened in a row. Thread-safe.
class HealthChecker {
 public:
  // `failure_threshold` >= 1 (0 is treated as 1).
  explicit HealthChecker(std::uint32_t failure_threshold = 3);

  void record_success();
  // Returns the status after this failure.
  HealthStatus record_failure();

  HealthStatus status() const;
  bool is_healthy() const { return status() == HealthStatus::healthy; }
  std::uint32_t consecutive_failures() const;
  std::uint32_t failure_threshold() const { return failure_threshold_; }
  std::optional<std::chrono::steady_clock::duration> time_since_last_success() const;
  std::optional<std::chrono::steady_clock::duration> time_since_last_failure() const;

 private:
  const std::uint32_t failure_threshold_;
  mutable std::mutex mutex_;
  std::uint32_t consecutive_failures_ = 0;
  std::optional<std::chrono::steady_clock::time_point> last_success_;
  std::optional<std::chrono::steady_clock::time_point> last_failure_;
};

}  // namespace danube::services
