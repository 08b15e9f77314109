#pragma once

#include <chrono>
#include <cstddef>

namespace danube::runtime {

// How many records a source may read ahead of what the broker has accepted.
//
// A fixed limit (max_inflight_records) lets a slow broker or a busy machine pile up that many
// records, and a shutdown must publish them all before it may commit: at 2 000 records/s,
// 10 000 records take five seconds, more than a drain gets from a short shutdown budget. So
// the limit follows the measured publish rate: what the producers settle within
// `drain_window`, never below `floor` (so a batch always fits) nor above `ceiling`. The rate is
// measured over busy time only (while records are outstanding), so an idle source does not
// read as a slow broker.
class PublishPacer {
 public:
  using Clock = std::chrono::steady_clock;

  PublishPacer(std::size_t floor, std::size_t ceiling, std::chrono::milliseconds drain_window);

  // Call before every change of the outstanding count, with the count before the change.
  void observe(std::size_t outstanding, Clock::time_point now);
  // Records the producers settled (published or dead-lettered).
  void settled(std::size_t records);

  std::size_t limit() const { return limit_; }
  double records_per_second() const { return rate_; }

 private:
  void take_sample();

  std::size_t floor_;
  std::size_t ceiling_;
  std::chrono::milliseconds drain_window_;
  std::size_t limit_;
  double rate_ = 0.0;  // smoothed, records per busy second; 0 before the first sample
  Clock::time_point last_event_{};
  bool busy_ = false;
  Clock::duration sample_busy_{};
  std::size_t sample_settled_ = 0;
};

// The pacer for a connector's configuration: floor twice the batch size, ceiling
// [delivery] max_inflight_records, drain window a third of [shutdown] timeout_ms (the drain
// must end by 60 % of it; a third leaves room for the rate to halve while draining).
PublishPacer publish_pacer_for(std::size_t batch_size, std::size_t max_inflight_records,
                               std::chrono::milliseconds shutdown_timeout);

}  // namespace danube::runtime
