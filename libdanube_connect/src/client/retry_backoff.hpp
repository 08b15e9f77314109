#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "danube/client/options.hpp"

namespace danube::client::detail {

// Delays between retries of one operation: attempt n (from 1) waits
// min(base * 2^(n-1), max) * U[0.5, 1.0). The random factor spreads the retries of many
// clients hitting the same restarted broker; keeping it below 1 keeps the cap a real cap.
class RetryBackoff {
 public:
  explicit RetryBackoff(RetryPolicy policy);

  std::chrono::milliseconds delay(std::uint32_t attempt);
  const RetryPolicy& policy() const { return policy_; }

 private:
  RetryPolicy policy_;
  std::mutex mutex_;
  std::minstd_rand random_;
};

}  // namespace danube::client::detail
