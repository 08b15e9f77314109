#include "danube/common/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace danube {
namespace {

BackoffPolicy sanitized(BackoffPolicy policy) {
  policy.initial = std::max(policy.initial, std::chrono::milliseconds(0));
  policy.max = std::max(policy.max, std::chrono::milliseconds(0));
  policy.multiplier = std::max(policy.multiplier, 1.0);
  return policy;
}

}  // namespace

Backoff::Backoff(const BackoffPolicy& policy)
    : policy_(sanitized(policy)), random_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::nominal_delay(std::uint32_t attempt) const {
  if (attempt == 0) return std::chrono::milliseconds(0);
  // In double, so large attempts saturate at max instead of overflowing.
  const double delay =
      static_cast<double>(policy_.initial.count()) * std::pow(policy_.multiplier, attempt - 1);
  const double capped = std::min(delay, static_cast<double>(policy_.max.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(capped));
}

std::chrono::milliseconds Backoff::delay(std::uint32_t attempt) {
  if (attempt == 0) return std::chrono::milliseconds(0);
  const double nominal = static_cast<double>(nominal_delay(attempt).count());
  if (!policy_.jitter) return std::chrono::milliseconds(static_cast<std::int64_t>(nominal));
  double factor;
  {
    std::lock_guard lock(mutex_);
    factor = std::uniform_real_distribution<double>(0.5, 1.5)(random_);
  }
  const double jittered = std::min(nominal * factor, static_cast<double>(policy_.max.count()));
  return std::chrono::milliseconds(static_cast<std::int64_t>(jittered));
}

void Backoff::seed(std::uint64_t value) {
  std::lock_guard lock(mutex_);
  random_.seed(value);
}

}  // namespace danube
