#pragma once

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <utility>
#include <vector>

namespace danube::connect {

// Groups items into batches bounded by a record count and a byte size, and releases a partial
// batch once its first item has waited `linger` (measured from that item, so an idle batcher
// never releases a lone late item early). Thread-safe: producers add(), a consumer takes.
//
// The linger flush does not need new input: wait_ready() returns the partial batch when it is
// due, and next_deadline() tells a timer-driven caller (an actor) when to call take_ready().
template <class T>
class Batcher {
 public:
  using Clock = std::chrono::steady_clock;
  using SizeOf = std::function<std::size_t(const T&)>;

  // `max_records` >= 1 (0 is treated as 1); `max_bytes` 0 = no byte bound (then `size_of` is
  // not needed).
  Batcher(std::size_t max_records, std::chrono::milliseconds linger, std::size_t max_bytes = 0,
          SizeOf size_of = {})
      : max_records_(max_records == 0 ? 1 : max_records),
        max_bytes_(max_bytes),
        linger_(linger),
        size_of_(std::move(size_of)) {}

  // Adds an item. When it would push the current batch past max_bytes, the current batch is
  // closed first (an item larger than max_bytes forms a batch alone). Returns true when a
  // batch is ready to take.
  bool add(T item) {
    const std::size_t bytes = (max_bytes_ > 0 && size_of_) ? size_of_(item) : 0;
    bool ready;
    {
      std::lock_guard lock(mutex_);
      if (max_bytes_ > 0 && !current_.empty() && current_bytes_ + bytes > max_bytes_) {
        seal_locked();
      }
      if (current_.empty()) first_added_ = Clock::now();
      current_.push_back(std::move(item));
      current_bytes_ += bytes;
      ++total_items_;
      total_bytes_ += bytes;
      if (current_.size() >= max_records_ || (max_bytes_ > 0 && current_bytes_ >= max_bytes_)) {
        seal_locked();
      }
      ready = !sealed_.empty();
    }
    if (ready) ready_.notify_all();
    return ready;
  }

  // A full batch, or the partial batch whose linger has expired at `now`; nullopt otherwise.
  std::optional<std::vector<T>> take_ready(Clock::time_point now = Clock::now()) {
    std::lock_guard lock(mutex_);
    return take_ready_locked(now);
  }

  // The next batch whether due or not (for draining at shutdown); nullopt when empty.
  std::optional<std::vector<T>> take_any() {
    std::lock_guard lock(mutex_);
    if (sealed_.empty() && !current_.empty()) seal_locked();
    return pop_sealed_locked();
  }

  // Blocks until a batch is ready (full, or linger expired, without needing new input), the
  // batcher is closed (then returns what is left, if anything), or `timeout` passed.
  std::optional<std::vector<T>> wait_ready(std::chrono::milliseconds timeout) {
    const auto give_up = Clock::now() + timeout;
    std::unique_lock lock(mutex_);
    while (true) {
      const auto now = Clock::now();
      if (auto batch = take_ready_locked(now)) return batch;
      if (closed_) {
        if (!current_.empty()) seal_locked();
        return pop_sealed_locked();
      }
      if (now >= give_up) return std::nullopt;
      auto wake = give_up;
      if (!current_.empty()) wake = std::min(wake, first_added_ + linger_);
      ready_.wait_until(lock, wake);
    }
  }

  // Wakes wait_ready() callers; they receive the remaining items.
  void close() {
    {
      std::lock_guard lock(mutex_);
      closed_ = true;
    }
    ready_.notify_all();
  }

  // When the current partial batch becomes due; nullopt when there is none. A full batch
  // waiting to be taken is due now.
  std::optional<Clock::time_point> next_deadline() const {
    std::lock_guard lock(mutex_);
    if (!sealed_.empty()) return Clock::now();
    if (current_.empty()) return std::nullopt;
    return first_added_ + linger_;
  }

  bool should_flush(Clock::time_point now = Clock::now()) const {
    std::lock_guard lock(mutex_);
    return !sealed_.empty() || (!current_.empty() && now >= first_added_ + linger_);
  }

  // Items and bytes not yet taken.
  std::size_t size() const {
    std::lock_guard lock(mutex_);
    return total_items_;
  }
  std::size_t bytes() const {
    std::lock_guard lock(mutex_);
    return total_bytes_;
  }
  bool empty() const { return size() == 0; }

  std::size_t max_records() const { return max_records_; }
  std::size_t max_bytes() const { return max_bytes_; }
  std::chrono::milliseconds linger() const { return linger_; }

 private:
  struct Sealed {
    std::vector<T> items;
    std::size_t bytes;
  };

  void seal_locked() {
    sealed_.push_back(Sealed{std::move(current_), current_bytes_});
    current_ = {};
    current_bytes_ = 0;
  }

  std::optional<std::vector<T>> pop_sealed_locked() {
    if (sealed_.empty()) return std::nullopt;
    Sealed batch = std::move(sealed_.front());
    sealed_.pop_front();
    total_items_ -= batch.items.size();
    total_bytes_ -= batch.bytes;
    return std::move(batch.items);
  }

  std::optional<std::vector<T>> take_ready_locked(Clock::time_point now) {
    if (sealed_.empty() && !current_.empty() && now >= first_added_ + linger_) seal_locked();
    return pop_sealed_locked();
  }

  const std::size_t max_records_;
  const std::size_t max_bytes_;
  const std::chrono::milliseconds linger_;
  const SizeOf size_of_;

  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::vector<T> current_;
  std::size_t current_bytes_ = 0;
  Clock::time_point first_added_{};
  std::deque<Sealed> sealed_;
  std::size_t total_items_ = 0;
  std::size_t total_bytes_ = 0;
  bool closed_ = false;
};

}  // namespace danube::connect
