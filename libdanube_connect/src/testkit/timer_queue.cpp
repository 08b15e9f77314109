#include "timer_queue.hpp"

#include <spdlog/spdlog.h>

#include <exception>

namespace danube::testkit::internal {

TimerQueue::TimerQueue() : thread_([this] { run(); }) {}

TimerQueue::~TimerQueue() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    tasks_.clear();
    due_by_id_.clear();
  }
  wake_.notify_all();
  thread_.join();
}

TimerQueue::TimerId TimerQueue::schedule_at(Clock::time_point when, std::function<void()> task) {
  bool new_earliest = false;
  TimerId id = 0;
  {
    std::lock_guard lock(mutex_);
    id = next_id_++;
    auto [it, inserted] = tasks_.emplace(Key{when, id}, std::move(task));
    due_by_id_.emplace(id, when);
    new_earliest = inserted && it == tasks_.begin();
  }
  if (new_earliest) wake_.notify_one();
  return id;
}

bool TimerQueue::cancel(TimerId id) {
  std::lock_guard lock(mutex_);
  const auto found = due_by_id_.find(id);
  if (found == due_by_id_.end()) return false;
  tasks_.erase(Key{found->second, id});
  due_by_id_.erase(found);
  return true;
}

void TimerQueue::clear() {
  std::unique_lock lock(mutex_);
  tasks_.clear();
  due_by_id_.clear();
  if (thread_.get_id() == std::this_thread::get_id()) return;  // called from a task
  task_finished_.wait(lock, [this] { return !running_task_; });
}

void TimerQueue::run() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    if (tasks_.empty()) {
      wake_.wait(lock);
      continue;
    }
    const auto due = tasks_.begin()->first.first;
    if (Clock::now() < due) {
      wake_.wait_until(lock, due);
      continue;
    }
    auto node = tasks_.extract(tasks_.begin());
    due_by_id_.erase(node.key().second);
    running_task_ = true;
    lock.unlock();
    try {
      node.mapped()();
    } catch (const std::exception& error) {
      // A throwing task must not take the whole broker down; it is a bug worth a loud log.
      spdlog::error("event=timer_task_failed error=\"{}\"", error.what());
    }
    lock.lock();
    running_task_ = false;
    task_finished_.notify_all();
  }
}

}  // namespace danube::testkit::internal
