#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <random>

namespace danube {

// The one retry-delay formula of the project (client calls, connector retries, publishes,
// supervised restarts). For attempt n >= 1:
//   nominal = min(initial * multiplier^(n-1), max)
//   delay   = jitter ? min(nominal * U[0.5, 1.5), max) : nominal
// truncated to whole milliseconds; attempt 0 has no delay. The random factor spreads the
// retries of many clients hitting the same restarted broker; the final cap keeps max a real cap.
struct BackoffPolicy {
  std::chrono::milliseconds initial{1000};
  std::chrono::milliseconds max{30000};
  double multiplier = 2.0;  // values below 1 count as 1
  bool jitter = true;
  std::uint32_t max_retries = 3;
};

// BackoffPolicy with its random source. Thread-safe.
class Backoff {
 public:
  explicit Backoff(const BackoffPolicy& policy);
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max, double multiplier = 2.0,
          bool jitter = true, std::uint32_t max_retries = 3)
      : Backoff(BackoffPolicy{initial, max, multiplier, jitter, max_retries}) {}

  // The delay before retry `attempt` (1 = first retry).
  std::chrono::milliseconds delay(std::uint32_t attempt);
  // The delay without jitter.
  std::chrono::milliseconds nominal_delay(std::uint32_t attempt) const;
  // True while attempt < max_retries.
  bool should_retry(std::uint32_t attempt) const { return attempt < policy_.max_retries; }

  // Makes the jitter reproducible (tests).
  void seed(std::uint64_t value);

  const BackoffPolicy& policy() const { return policy_; }
  std::chrono::milliseconds base() const { return policy_.initial; }
  std::chrono::milliseconds max() const { return policy_.max; }
  double multiplier() const { return policy_.multiplier; }
  bool jitter() const { return policy_.jitter; }
  std::uint32_t max_retries() const { return policy_.max_retries; }

 private:
  BackoffPolicy policy_;
  std::mutex mutex_;
  std::mt19937_64 random_;
};

}  // namespace danube
