#include "stored_watermark.hpp"

namespace danube::source_mqtt {

StoredWatermark::StoredWatermark(std::uint64_t last_committed)
    : next_(last_committed + 1), stored_(last_committed) {}

std::uint64_t StoredWatermark::next_number() {
  std::lock_guard lock(mutex_);
  return next_++;
}

void StoredWatermark::stored_up_to(std::uint64_t number) {
  {
    std::lock_guard lock(mutex_);
    if (number <= stored_) return;
    stored_ = number;
  }
  changed_.notify_all();
}

void StoredWatermark::stop() {
  {
    std::lock_guard lock(mutex_);
    stopped_ = true;
  }
  changed_.notify_all();
}

bool StoredWatermark::wait_stored(std::uint64_t number) {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return stored_ >= number || stopped_; });
  return stored_ >= number;
}

std::uint64_t StoredWatermark::stored() const {
  std::lock_guard lock(mutex_);
  return stored_;
}

}  // namespace danube::source_mqtt
