#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace danube::testkit::internal {

// One thread that runs tasks at given times: ack timeouts, redelivery backoff, injected latency
// and the periodic flush. Tasks run outside the queue's lock, one at a time, so they must be
// short and must not block.
//
// Why not a polling watchdog (Danube checks every 500 ms): precise timers let tests use ack
// timeouts of tens of milliseconds and finish in a fraction of the time.
class TimerQueue {
 public:
  using Clock = std::chrono::steady_clock;
  using TimerId = std::uint64_t;

  TimerQueue();
  ~TimerQueue();
  TimerQueue(const TimerQueue&) = delete;
  TimerQueue& operator=(const TimerQueue&) = delete;

  TimerId schedule_at(Clock::time_point when, std::function<void()> task);
  TimerId schedule_after(Clock::duration delay, std::function<void()> task) {
    return schedule_at(Clock::now() + delay, std::move(task));
  }
  // Returns false when the task already ran, is running or was never scheduled.
  bool cancel(TimerId id);
  // Drops every pending task and waits for a running one to finish. Later schedules still work.
  void clear();

 private:
  void run();

  using Key = std::pair<Clock::time_point, TimerId>;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable task_finished_;
  std::map<Key, std::function<void()>> tasks_;
  std::unordered_map<TimerId, Clock::time_point> due_by_id_;
  TimerId next_id_ = 1;
  bool running_task_ = false;
  bool stopping_ = false;
  std::thread thread_;  // last member: starts after everything above is initialised
};

}  // namespace danube::testkit::internal
