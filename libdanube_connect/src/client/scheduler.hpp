#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace danube::client::detail {

// One thread running tasks in time order, started by the first task and named after the
// scheduler. The client keeps two: one for timers (backoff retries, health checks; tasks must
// not block) and one for control-plane work that may block (closing, re-creating producers), so
// a slow broker never delays a timer. A connector that closes nothing and loses no producer never
// starts the second.
//
// The queue lives in shared state owned jointly by the handle and the thread, so a task that
// drops the last reference to whatever owns the Scheduler cannot destroy the queue under the
// running thread; the destructor then detaches instead of joining itself.
class Scheduler {
 public:
  using Clock = std::chrono::steady_clock;
  using Task = std::function<void()>;

  explicit Scheduler(std::string name);
  ~Scheduler();  // drops pending tasks, waits for the running one (unless called from it)
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  void post(Task task);
  void post_after(std::chrono::nanoseconds delay, Task task);
  bool on_scheduler_thread() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace danube::client::detail
