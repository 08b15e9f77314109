#include "scheduler.hpp"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <exception>
#include <mutex>
#include <queue>
#include <thread>
#include <vector>

namespace danube::client::detail {

struct Scheduler::State {
  struct Entry {
    Clock::time_point due;
    std::uint64_t sequence;  // keeps FIFO order among tasks due at the same time
    Task task;
    bool operator>(const Entry& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };

  std::string name;
  std::mutex mutex;
  std::condition_variable wake;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> queue;
  std::uint64_t next_sequence = 0;
  bool stopping = false;
  std::thread thread;

  void add(Clock::time_point due, Task task) {
    {
      std::lock_guard lock(mutex);
      if (stopping) return;
      queue.push(Entry{due, next_sequence++, std::move(task)});
    }
    wake.notify_one();
  }

  static void run(const std::shared_ptr<State>& self) {
    std::unique_lock lock(self->mutex);
    while (!self->stopping) {
      if (self->queue.empty()) {
        self->wake.wait(lock);
        continue;
      }
      const auto due = self->queue.top().due;
      if (Clock::now() < due) {
        self->wake.wait_until(lock, due);
        continue;
      }
      Task task = std::move(const_cast<Entry&>(self->queue.top()).task);
      self->queue.pop();
      lock.unlock();
      try {
        task();
      } catch (const std::exception& e) {
        spdlog::error("scheduler={} event=task_failed error=\"{}\"", self->name, e.what());
      }
      task = nullptr;  // release captures before taking the lock again
      lock.lock();
    }
  }
};

Scheduler::Scheduler(std::string name) : state_(std::make_shared<State>()) {
  state_->name = std::move(name);
  state_->thread = std::thread([state = state_] { State::run(state); });
}

Scheduler::~Scheduler() {
  std::priority_queue<State::Entry, std::vector<State::Entry>, std::greater<>> dropped;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    std::swap(dropped, state_->queue);
  }
  state_->wake.notify_all();
  if (state_->thread.get_id() == std::this_thread::get_id()) {
    state_->thread.detach();  // the running task owns the last reference; the state outlives it
  } else if (state_->thread.joinable()) {
    state_->thread.join();
  }
  // `dropped` is destroyed here, outside the lock, so captured objects may lock it again.
}

void Scheduler::post(Task task) { state_->add(Clock::now(), std::move(task)); }

void Scheduler::post_after(std::chrono::nanoseconds delay, Task task) {
  state_->add(Clock::now() + delay, std::move(task));
}

bool Scheduler::on_scheduler_thread() const {
  return state_->thread.get_id() == std::this_thread::get_id();
}

}  // namespace danube::client::detail
