#include "publish_pacer.hpp"

#include <algorithm>
#include <cmath>

namespace danube::runtime {
namespace {

// Long enough to hold many settlements at any useful rate, short enough to follow a machine
// that becomes busy.
constexpr auto kSampleBusyTime = std::chrono::milliseconds(250);
// Weight of a new sample: the limit reacts within a second or two, one stall does not swing it.
constexpr double kSampleWeight = 0.3;

}  // namespace

PublishPacer::PublishPacer(std::size_t floor, std::size_t ceiling,
                           std::chrono::milliseconds drain_window)
    : floor_(std::max<std::size_t>(1, std::min(floor, ceiling))),
      ceiling_(std::max<std::size_t>(1, ceiling)),
      drain_window_(drain_window),
      limit_(floor_) {}

void PublishPacer::observe(std::size_t outstanding, Clock::time_point now) {
  if (busy_) sample_busy_ += now - last_event_;
  last_event_ = now;
  busy_ = outstanding > 0;
  if (sample_busy_ >= kSampleBusyTime) take_sample();
}

void PublishPacer::settled(std::size_t records) {
  sample_settled_ += records;
}

void PublishPacer::take_sample() {
  const double seconds = std::chrono::duration<double>(sample_busy_).count();
  const double sample = static_cast<double>(sample_settled_) / seconds;
  rate_ = rate_ == 0.0 ? sample : (1.0 - kSampleWeight) * rate_ + kSampleWeight * sample;
  sample_busy_ = {};
  sample_settled_ = 0;
  const double window_seconds = std::chrono::duration<double>(drain_window_).count();
  const double wanted = rate_ * window_seconds;
  limit_ = wanted >= static_cast<double>(ceiling_)
               ? ceiling_
               : std::clamp(static_cast<std::size_t>(std::llround(wanted)), floor_, ceiling_);
}

PublishPacer publish_pacer_for(std::size_t batch_size, std::size_t max_inflight_records,
                               std::chrono::milliseconds shutdown_timeout) {
  return PublishPacer(2 * std::max<std::size_t>(1, batch_size), max_inflight_records,
                      shutdown_timeout / 3);
}

}  // namespace danube::runtime
