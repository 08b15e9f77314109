#include "ack_tracker.hpp"

#include <algorithm>

namespace danube::webhook {

void AckTracker::start(std::uint64_t highest_committed) {
  {
    std::lock_guard order(send_order_);
    next_offset_ = std::max(next_offset_, highest_committed + 1);
  }
  std::lock_guard lock(mutex_);
  committed_ = std::max(committed_, highest_committed);
  stopped_ = false;
}

AckTracker::Sent AckTracker::send_in_order(
    Clock::time_point deadline,
    const std::function<connect::SendStatus(std::uint64_t offset)>& send) {
  std::unique_lock order(send_order_, std::defer_lock);
  if (!order.try_lock_until(deadline)) return {connect::SendStatus::timed_out, 0};
  const std::uint64_t offset = next_offset_++;
  // An offset that was not sent is a harmless gap: the runtime tracks only what it received.
  return {send(offset), offset};
}

void AckTracker::committed(std::uint64_t value) {
  {
    std::lock_guard lock(mutex_);
    if (value <= committed_) return;
    committed_ = value;
  }
  changed_.notify_all();
}

std::uint64_t AckTracker::committed_value() const {
  std::lock_guard lock(mutex_);
  return committed_;
}

AckTracker::Outcome AckTracker::wait(std::uint64_t offset, Clock::time_point deadline) {
  std::unique_lock lock(mutex_);
  changed_.wait_until(lock, deadline, [&] { return stopped_ || committed_ >= offset; });
  if (committed_ >= offset) return Outcome::acknowledged;
  return stopped_ ? Outcome::stopped : Outcome::timed_out;
}

void AckTracker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
}

}  // namespace danube::webhook
