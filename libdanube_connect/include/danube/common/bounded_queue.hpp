#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "danube/common/send_status.hpp"

namespace danube {

// The project's one bounded, closable, multi-producer queue with a ready signal: between a
// streaming source's threads and the runtime, and between a consumer's partition readers and
// the application.
//
// Bounds: max_items, and max_bytes as measured by `cost` (0 = no byte bound; `cost` may then be
// null). An item larger than
// max_bytes still enters an empty queue, so one big item cannot block forever. Producers that
// must wait *before* they fetch the next item (its cost unknown yet) call wait_for_room() and
// then push_now(); the bounds may then be exceeded by one item per producer that waited at once.
//
// After close(), pushes fail at once (also those waiting) while the consumer may still drain
// what is queued. The ready callback runs (on the pushing thread, without locks held) whenever
// the queue goes from empty to non-empty and once at close(), so an actor can be told to drain
// without anyone blocking; it is not called again while items remain, so the reader keeps taking
// until it gets fewer than it asked for. It must not block.
template <class T>
class BoundedQueue {
 public:
  // A plain function: it runs on every push, and holds no state.
  using CostFn = std::size_t (*)(const T&);

  BoundedQueue(std::size_t max_items, std::size_t max_bytes, CostFn cost)
      : max_items_(std::max<std::size_t>(max_items, 1)), max_bytes_(max_bytes), cost_(cost) {}

  BoundedQueue(const BoundedQueue&) = delete;
  BoundedQueue& operator=(const BoundedQueue&) = delete;

  // Waits until there is room for `item` or the queue is closed.
  SendStatus push(T item) {
    return push_when(std::move(item), [this](std::unique_lock<std::mutex>& lock, auto ready) {
      room_.wait(lock, ready);
      return true;
    });
  }

  // Gives up after `timeout`.
  SendStatus push_for(T item, std::chrono::milliseconds timeout) {
    return push_when(std::move(item),
                     [this, timeout](std::unique_lock<std::mutex>& lock, auto ready) {
                       return room_.wait_for(lock, timeout, ready);
                     });
  }

  // Waits while both bounds are reached; false once closed.
  bool wait_for_room() {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] {
      return closed_ || (items_.size() < max_items_ && (max_bytes_ == 0 || bytes_ < max_bytes_));
    });
    return !closed_;
  }

  // Adds `item` without waiting (after wait_for_room()), also after close(): the item was
  // already fetched, and the reader may still drain it.
  void push_now(T item) {
    const std::size_t cost = cost_ ? cost_(item) : 0;
    std::shared_ptr<const std::function<void()>> callback;
    {
      std::lock_guard lock(mutex_);
      callback = append_locked(std::move(item), cost);
    }
    announce(callback);
  }

  // Takes up to `max_count` items without waiting (possibly none).
  std::vector<T> try_pop(std::size_t max_count) {
    std::vector<T> taken;
    {
      std::lock_guard lock(mutex_);
      taken = take_locked(max_count);
    }
    if (!taken.empty()) room_.notify_all();
    return taken;
  }

  // Waits up to `wait` for at least one item, then takes up to `max_count`. Returns at once
  // (possibly empty) when the queue is closed.
  std::vector<T> pop_for(std::size_t max_count, std::chrono::milliseconds wait) {
    std::vector<T> taken;
    {
      std::unique_lock lock(mutex_);
      if (wait.count() > 0) {
        data_.wait_for(lock, wait, [this] { return closed_ || !items_.empty(); });
      }
      taken = take_locked(max_count);
    }
    if (!taken.empty()) room_.notify_all();
    return taken;
  }

  // Refuses further pushes, wakes everyone waiting and signals ready once. Idempotent.
  void close() {
    std::shared_ptr<const std::function<void()>> callback;
    {
      std::lock_guard lock(mutex_);
      if (closed_) return;
      closed_ = true;
      callback = ready_callback_;
    }
    room_.notify_all();
    data_.notify_all();
    if (callback && *callback) (*callback)();
  }

  // Replaces the ready callback; calls it at once when items are queued or the queue is closed.
  void set_ready_callback(std::function<void()> callback) {
    auto shared =
        callback ? std::make_shared<const std::function<void()>>(std::move(callback)) : nullptr;
    bool call_now = false;
    {
      std::lock_guard lock(mutex_);
      ready_callback_ = shared;
      call_now = shared && (closed_ || !items_.empty());
    }
    if (call_now) (*shared)();
  }

  bool is_closed() const {
    std::lock_guard lock(mutex_);
    return closed_;
  }
  // Closed and nothing left to take.
  bool is_drained() const {
    std::lock_guard lock(mutex_);
    return closed_ && items_.empty();
  }
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return items_.size();
  }
  std::size_t bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }
  std::size_t max_items() const { return max_items_; }
  std::size_t max_bytes() const { return max_bytes_; }

 private:
  struct Entry {
    T item;
    std::size_t cost;
  };

  bool has_room_locked(std::size_t cost) const {
    if (items_.empty()) return true;
    if (items_.size() >= max_items_) return false;
    return max_bytes_ == 0 || bytes_ + cost <= max_bytes_;
  }

  template <class WaitFn>
  SendStatus push_when(T item, WaitFn&& wait) {
    const std::size_t cost = cost_ ? cost_(item) : 0;
    std::shared_ptr<const std::function<void()>> callback;
    {
      std::unique_lock lock(mutex_);
      if (!wait(lock, [&] { return closed_ || has_room_locked(cost); })) {
        return SendStatus::timed_out;
      }
      if (closed_) return SendStatus::closed;
      callback = append_locked(std::move(item), cost);
    }
    announce(callback);
    return SendStatus::sent;
  }

  // Returns the callback to run when the queue was empty.
  std::shared_ptr<const std::function<void()>> append_locked(T item, std::size_t cost) {
    const bool was_empty = items_.empty();
    items_.push_back(Entry{std::move(item), cost});
    bytes_ += cost;
    return was_empty ? ready_callback_ : nullptr;
  }

  void announce(const std::shared_ptr<const std::function<void()>>& callback) {
    data_.notify_one();
    if (callback && *callback) (*callback)();
  }

  std::vector<T> take_locked(std::size_t max_count) {
    std::vector<T> taken;
    const std::size_t count = std::min(max_count, items_.size());
    taken.reserve(count);
    for (std::size_t i = 0; i < count; ++i) {
      bytes_ -= items_.front().cost;
      taken.push_back(std::move(items_.front().item));
      items_.pop_front();
    }
    return taken;
  }

  const std::size_t max_items_;
  const std::size_t max_bytes_;
  const CostFn cost_;
  mutable std::mutex mutex_;
  std::condition_variable room_;
  std::condition_variable data_;
  std::deque<Entry> items_;
  std::size_t bytes_ = 0;
  bool closed_ = false;
  std::shared_ptr<const std::function<void()>> ready_callback_;
};

}  // namespace danube
