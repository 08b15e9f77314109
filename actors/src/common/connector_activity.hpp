#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

namespace danube::runtime {

// Whether the connector's thread is inside a connector call (process_batch, poll, commit, ...)
// and since when. The health monitor reads it when a probe goes unanswered: a probe waits
// behind the call in progress, and a connector that is busy working is not an unhealthy one.
class ConnectorActivity {
 public:
  using Clock = std::chrono::steady_clock;

  // Marks one connector call for its lifetime.
  class Call {
   public:
    explicit Call(ConnectorActivity& activity) : activity_(activity) {
      activity_.busy_since_ns_.store(Clock::now().time_since_epoch().count(),
                                     std::memory_order_relaxed);
    }
    ~Call() { activity_.busy_since_ns_.store(kIdle, std::memory_order_relaxed); }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    ConnectorActivity& activity_;
  };

  // How long the current call has run; nullopt when the connector is idle.
  std::optional<std::chrono::milliseconds> busy_for() const {
    const auto since = busy_since_ns_.load(std::memory_order_relaxed);
    if (since == kIdle) return std::nullopt;
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        Clock::now() - Clock::time_point(Clock::duration(since)));
  }

 private:
  static constexpr Clock::rep kIdle = 0;
  std::atomic<Clock::rep> busy_since_ns_{kIdle};
};

}  // namespace danube::runtime
