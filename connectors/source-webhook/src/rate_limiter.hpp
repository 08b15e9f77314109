#pragma once

// Token buckets for one endpoint: one shared by every client, and optionally one per client IP.
// A request takes a token from each; when one is empty the request is refused (429) with the
// time until a token is back (Retry-After).
#include <chrono>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "webhook_config.hpp"

namespace danube::webhook {

using SteadyClock = std::chrono::steady_clock;

// A classic token bucket: `rate` tokens per second, at most `capacity` stored. Not thread-safe.
class TokenBucket {
 public:
  TokenBucket(double rate, double capacity, SteadyClock::time_point now);
  // Takes a token; when there is none, returns how long until there is one.
  std::optional<SteadyClock::duration> try_take(SteadyClock::time_point now);
  // True when the bucket refilled completely (it holds no information worth keeping).
  bool full(SteadyClock::time_point now) const;

 private:
  void refill(SteadyClock::time_point now);
  double rate_;
  double capacity_;
  double tokens_;
  SteadyClock::time_point updated_;
};

class RateLimiter {
 public:
  // Client IPs tracked at most at once; beyond it, full buckets are dropped first and, if that
  // is not enough, the whole table (a flood of distinct addresses must not exhaust memory).
  static constexpr std::size_t kMaxTrackedClients = 100'000;

  RateLimiter(const RateLimitSettings& settings, SteadyClock::time_point now);

  // nullopt: admitted. Otherwise the request is refused; the value is the wait until a retry
  // can succeed, and `which` says which bucket refused ("endpoint" or "client").
  struct Refusal {
    SteadyClock::duration retry_after;
    const char* which;
  };
  std::optional<Refusal> admit(std::string_view client, SteadyClock::time_point now);

 private:
  void forget_idle_clients(SteadyClock::time_point now);

  RateLimitSettings settings_;
  std::mutex mutex_;
  TokenBucket endpoint_;
  std::unordered_map<std::string, TokenBucket> clients_;
};

}  // namespace danube::webhook
