#include "scheduler.hpp"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <atomic>
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
  std::thread thread;                      // started by the first task
  std::atomic<std::thread::id> thread_id;  // read without the lock by on_scheduler_thread

  static void add(const std::shared_ptr<State>& self, Clock::time_point due, Task task) {
    {
      std::lock_guard lock(self->mutex);
      if (self->stopping) return;
      self->queue.push(Entry{due, self->next_sequence++, std::move(task)});
      if (!self->thread.joinable()) {
        self->thread = std::thread([self] { run(self); });
        self->thread_id.store(self->thread.get_id());
        return;  // it looks at the queue before it waits
      }
    }
    self->wake.notify_one();
  }

  static void run(const std::shared_ptr<State>& self) {
    // Linux keeps 15 characters of a thread's name.
    pthread_setname_np(pthread_self(), self->name.substr(0, 15).c_str());
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
}

Scheduler::~Scheduler() {
  std::priority_queue<State::Entry, std::vector<State::Entry>, std::greater<>> dropped;
  std::thread thread;
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
    std::swap(dropped, state_->queue);
    std::swap(thread, state_->thread);
  }
  state_->wake.notify_all();
  if (thread.get_id() == std::this_thread::get_id()) {
    thread.detach();  // the running task owns the last reference; the state outlives it
  } else if (thread.joinable()) {
    thread.join();
  }
  // `dropped` is destroyed here, outside the lock, so captured objects may lock it again.
}

void Scheduler::post(Task task) {
  State::add(state_, Clock::now(), std::move(task));
}

void Scheduler::post_after(std::chrono::nanoseconds delay, Task task) {
  State::add(state_, Clock::now() + delay, std::move(task));
}

bool Scheduler::on_scheduler_thread() const {
  return state_->thread_id.load() == std::this_thread::get_id();
}

}  // namespace danube::client::detail
