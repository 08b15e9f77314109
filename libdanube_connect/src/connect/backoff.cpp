#include "danube/connect/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace danube::connect {

Backoff::Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, double multiplier,
                 bool jitter, std::uint32_t max_retries)
    : base_(std::max(base, std::chrono::milliseconds(0))),
      max_(std::max(max, std::chrono::milliseconds(0))),
      multiplier_(std::max(multiplier, 1.0)),
      jitter_(jitter),
      max_retries_(max_retries),
      random_(std::random_device{}()) {}

Backoff::Backoff(const RetrySettings& settings)
    : Backoff(std::chrono::milliseconds(settings.retry_backoff_ms),
              std::chrono::milliseconds(settings.max_backoff_ms), settings.multiplier,
              settings.jitter, settings.max_retries) {}

std::chrono::milliseconds Backoff::nominal_delay(std::uint32_t attempt) const {
  if (attempt == 0) return std::chrono::milliseconds(0);
  // In double, so large attempts saturate at max instead of overflowing.
  const double delay = static_cast<double>(base_.count()) * std::pow(multiplier_, attempt - 1);
  const double capped = std::min(delay, static_cast<double>(max_.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped));
}

std::chrono::milliseconds Backoff::delay(std::uint32_t attempt) {
  if (attempt == 0) return std::chrono::milliseconds(0);
  const double nominal = static_cast<double>(nominal_delay(attempt).count());
  if (!jitter_) return std::chrono::milliseconds(static_cast<std::int64_t>(nominal));
  double factor;
  {
    std::lock_guard lock(mutex_);
    factor = std::uniform_real_distribution<double>(0.5, 1.5)(random_);
  }
  const double jittered = std::min(nominal * factor, static_cast<double>(max_.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(jittered));
}

void Backoff::seed(std::uint64_t value) {
  std::lock_guard lock(mutex_);
  random_.seed(value);
}

}  // namespace danube::connect
