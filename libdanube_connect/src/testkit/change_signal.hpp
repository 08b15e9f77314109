#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

namespace danube::testkit::internal {

// Wakes threads that wait for the broker's observable state to change (tests waiting on
// counters or subscriptions). notify() is on the publish/deliver path, so it costs one atomic
// load when nobody waits and takes its mutex only when somebody does.
class ChangeSignal {
 public:
  void notify() {
    if (waiters_.load() == 0) return;
    {
      std::lock_guard lock(mutex_);
      ++generation_;
    }
    changed_.notify_all();
  }

  // Evaluates `pred` (without holding our lock, so it may take the broker's locks) after every
  // change until it holds or the timeout passes.
  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    // A safety net against a change that forgot to notify: re-check at least this often.
    constexpr auto kRecheck = std::chrono::milliseconds(100);
    ++waiters_;
    struct Leave {
      std::atomic<int>& waiters;
      ~Leave() { --waiters; }
    } leave{waiters_};
    for (;;) {
      std::uint64_t seen = 0;
      {
        std::lock_guard lock(mutex_);
        seen = generation_;
      }
      if (pred()) return true;
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return false;
      std::unique_lock lock(mutex_);
      changed_.wait_until(lock, std::min(deadline, now + kRecheck),
                          [&] { return generation_ != seen; });
    }
  }

 private:
  mutable std::mutex mutex_;
  mutable std::condition_variable changed_;
  mutable std::atomic<int> waiters_{0};
  std::uint64_t generation_ = 0;
};

}  // namespace danube::testkit::internal
