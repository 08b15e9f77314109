#include "retry_backoff.hpp"

#include <algorithm>

namespace danube::client::detail {

RetryBackoff::RetryBackoff(RetryPolicy policy)
    : policy_(policy), random_(std::random_device{}()) {}

std::chrono::milliseconds RetryBackoff::delay(std::uint32_t attempt) {
  if (attempt == 0) return std::chrono::milliseconds(0);
  const double base = static_cast<double>(policy_.base_backoff.count());
  const double cap = static_cast<double>(policy_.max_backoff.count());
  const double exponent = static_cast<double>(std::min<std::uint32_t>(attempt - 1, 40));
  const double nominal = std::min(base * static_cast<double>(1ULL << static_cast<int>(exponent)), cap);
  double factor = 0.0;
  {
    std::lock_guard lock(mutex_);
    factor = std::uniform_real_distribution<double>(0.5, 1.0)(random_);
  }
  return std::chrono::milliseconds(static_cast<std::int64_t>(nominal * factor));
}

}  // namespace danube::client::detail
