#include "stored_watermark.hpp"

namespace danube::source_mqtt {

StoredWatermark::StoredWatermark(std::uint64_t last_committed)
    : next_(last_committed + 1), stored_(last_committed) {}

std::uint64_t StoredWatermark::next_number() {
  std::lock_guard lock(mutex_);
  return next_++;
}

void StoredWatermark::stored_up_to(std::uint64_t number) {
  std::lock_guard lock(mutex_);
  if (number > stored_) stored_ = number;
}

std::uint64_t StoredWatermark::stored() const {
  std::lock_guard lock(mutex_);
  return stored_;
}

bool StoredWatermark::all_stored() const {
  std::lock_guard lock(mutex_);
  return stored_ + 1 >= next_;
}

}  // namespace danube::source_mqtt
