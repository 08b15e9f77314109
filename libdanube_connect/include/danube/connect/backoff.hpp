#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

#include "danube/connect/config.hpp"

namespace danube::connect {

// Retry delays, with the seed's formula: for attempt n >= 1,
//   delay = min(base * multiplier^(n-1), max), then with jitter
//   delay = min(delay * U[0.5, 1.5), max), truncated to whole milliseconds;
// attempt 0 has no delay. Thread-safe.
class Backoff {
 public:
  Backoff(std::chrono::milliseconds base, std::chrono::milliseconds max, double multiplier = 2.0,
          bool jitter = true, std::uint32_t max_retries = 3);
  // From [retry] settings.
  explicit Backoff(const RetrySettings& settings);

  // The delay before retry `attempt` (1 = first retry).
  std::chrono::milliseconds delay(std::uint32_t attempt);
  // The delay without jitter.
  std::chrono::milliseconds nominal_delay(std::uint32_t attempt) const;
  // True while attempt < max_retries.
  bool should_retry(std::uint32_t attempt) const { return attempt < max_retries_; }

  // Makes the jitter reproducible (tests).
  void seed(std::uint64_t value);

  std::chrono::milliseconds base() const { return base_; }
  std::chrono::milliseconds max() const { return max_; }
  double multiplier() const { return multiplier_; }
  bool jitter() const { return jitter_; }
  std::uint32_t max_retries() const { return max_retries_; }

 private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds max_;
  double multiplier_;
  bool jitter_;
  std::uint32_t max_retries_;
  std::mutex mutex_;
  std::mt19937_64 random_;
};

}  // namespace danube::connect
