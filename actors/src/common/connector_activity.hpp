#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>

namespace danube::runtime {

// Whether the connector's thread is inside a connector call (process_batch, poll, commit, ...)
// or left one recently. The health monitor reads it when a probe goes unanswered: a probe waits
// behind the call in progress, and a connector that is busy working is not an unhealthy one.
class ConnectorActivity {
 public:
  using Clock = std::chrono::steady_clock;

  // Marks one connector call for its lifetime.
  class Call {
   public:
    explicit Call(ConnectorActivity& activity) : activity_(activity) {
      activity_.busy_.fetch_add(1, std::memory_order_relaxed);
    }
    ~Call() {
      activity_.last_call_ended_ns_.store(Clock::now().time_since_epoch().count(),
                                          std::memory_order_relaxed);
      activity_.busy_.fetch_sub(1, std::memory_order_relaxed);
    }
    Call(const Call&) = delete;
    Call& operator=(const Call&) = delete;

   private:
    ConnectorActivity& activity_;
  };

  // True while a call runs, or when one ended less than `window` ago: a probe sent during a
  // call may still be waiting behind it, or be answered right after.
  bool busy_within(std::chrono::milliseconds window) const {
    if (busy_.load(std::memory_order_relaxed) > 0) return true;
    const auto ended = last_call_ended_ns_.load(std::memory_order_relaxed);
    return ended != 0 && Clock::now() - Clock::time_point(Clock::duration(ended)) < window;
  }

 private:
  std::atomic<int> busy_{0};
  std::atomic<Clock::rep> last_call_ended_ns_{0};
};

}  // namespace danube::runtime
