#include "rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace danube::webhook {

TokenBucket::TokenBucket(double rate, double capacity, SteadyClock::time_point now)
    : rate_(rate), capacity_(std::max(capacity, 1.0)), tokens_(capacity_), updated_(now) {}

void TokenBucket::refill(SteadyClock::time_point now) {
  if (now <= updated_) return;
  const double elapsed = std::chrono::duration<double>(now - updated_).count();
  tokens_ = std::min(capacity_, tokens_ + elapsed * rate_);
  updated_ = now;
}

std::optional<SteadyClock::duration> TokenBucket::try_take(SteadyClock::time_point now) {
  refill(now);
  if (tokens_ >= 1.0) {
    tokens_ -= 1.0;
    return std::nullopt;
  }
  if (rate_ <= 0) return std::chrono::hours(1);  // never refills: "come back much later"
  const double seconds = (1.0 - tokens_) / rate_;
  return std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(seconds));
}

bool TokenBucket::full(SteadyClock::time_point now) const {
  const double elapsed = std::chrono::duration<double>(now - updated_).count();
  return tokens_ + std::max(elapsed, 0.0) * rate_ >= capacity_;
}

RateLimiter::RateLimiter(const RateLimitSettings& settings, SteadyClock::time_point now)
    : settings_(settings), endpoint_(settings.requests_per_second, settings.burst_size, now) {}

std::optional<RateLimiter::Refusal> RateLimiter::admit(std::string_view client,
                                                       SteadyClock::time_point now) {
  std::lock_guard lock(mutex_);
  // The client's bucket first: a client over its own limit must not use up the endpoint's.
  if (settings_.per_ip_enabled) {
    auto found = clients_.find(std::string(client));
    if (found == clients_.end()) {
      if (clients_.size() >= kMaxTrackedClients) forget_idle_clients(now);
      found = clients_
                  .emplace(std::string(client), TokenBucket(settings_.per_ip_requests_per_second,
                                                            settings_.per_ip_burst_size, now))
                  .first;
    }
    if (const auto wait = found->second.try_take(now)) return Refusal{*wait, "client"};
  }
  if (const auto wait = endpoint_.try_take(now)) return Refusal{*wait, "endpoint"};
  return std::nullopt;
}

void RateLimiter::forget_idle_clients(SteadyClock::time_point now) {
  std::erase_if(clients_, [now](const auto& entry) { return entry.second.full(now); });
  if (clients_.size() >= kMaxTrackedClients) clients_.clear();
}

}  // namespace danube::webhook
