#pragma once

// What a consumer in the latency benchmark received, shared between the thread that consumes
// (a bare client's receive loop, or the runtime's sink worker calling process_batch) and the
// thread that measures: each numbered sample's latency from its send time, which partitions a
// probe came through, and how many messages arrived per delivery.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <numeric>
#include <span>
#include <vector>

#include "latency_stamp.hpp"
#include "thread_schedstat.hpp"

namespace danube::bench {

// Latencies in microseconds over the samples after the warm-up.
struct LatencySummary {
  std::size_t samples = 0;
  std::size_t missing = 0;  // sent and never received
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0, mean_us = 0;
};

// The p-th percentile (0..100] of sorted values by nearest rank.
inline double nearest_rank(const std::vector<std::int64_t>& sorted, double p) {
  if (sorted.empty()) return 0;
  const auto rank =
      static_cast<std::size_t>(std::ceil(p / 100.0 * static_cast<double>(sorted.size())));
  return static_cast<double>(sorted[std::clamp<std::size_t>(rank, 1, sorted.size()) - 1]);
}

class LatencyRecorder {
 public:
  LatencyRecorder(std::size_t samples, std::size_t partitions)
      : latency_ns_(samples, kUnseen), probed_(std::max<std::size_t>(partitions, 1), false) {}

  // One message, received at `at_ns` (steady clock) from `partition`. Returns true for a
  // sample, so the caller can count the samples of its delivery.
  bool observe(std::span<const std::uint8_t> payload, std::size_t partition, std::int64_t at_ns) {
    const auto stamp = read_stamp(payload);
    std::lock_guard lock(mutex_);
    if (!stamp) {
      ++foreign_;
      return false;
    }
    if (stamp->kind == StampKind::probe) {
      if (partition < probed_.size() && !probed_[partition]) {
        probed_[partition] = true;
        changed_.notify_all();
      }
      return false;
    }
    if (stamp->sequence >= latency_ns_.size()) {
      ++foreign_;
      return false;
    }
    auto& slot = latency_ns_[stamp->sequence];
    if (slot != kUnseen) {
      ++duplicates_;  // a redelivery: the first arrival is the latency
      return true;
    }
    slot = at_ns - stamp->sent_ns;
    ++received_;
    if (received_ == latency_ns_.size()) changed_.notify_all();
    return true;
  }

  // A delivery (one receive() result, one process_batch call) that carried `samples` samples,
  // handed over on the calling thread.
  void add_delivery(std::size_t samples) {
    if (samples == 0) return;
    consumer_thread_ = current_thread_id();
    std::lock_guard lock(mutex_);
    ++deliveries_;
    delivered_ += samples;
    if (samples == 1) ++single_deliveries_;
  }

  // True once a probe came through every partition: the subscription is live on all of them.
  bool wait_live(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] {
      return std::all_of(probed_.begin(), probed_.end(), [](bool seen) { return seen; });
    });
  }

  // True once every sample arrived.
  bool wait_all(std::chrono::steady_clock::time_point deadline) {
    std::unique_lock lock(mutex_);
    return changed_.wait_until(lock, deadline, [&] { return received_ == latency_ns_.size(); });
  }

  // Over the samples numbered `first` and above (the ones after the warm-up).
  LatencySummary summary(std::size_t first) {
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> sorted;
    LatencySummary result;
    for (std::size_t i = first; i < latency_ns_.size(); ++i) {
      if (latency_ns_[i] == kUnseen) {
        ++result.missing;
      } else {
        sorted.push_back(latency_ns_[i]);
      }
    }
    std::sort(sorted.begin(), sorted.end());
    result.samples = sorted.size();
    if (sorted.empty()) return result;
    auto us = [](double ns) { return ns / 1000.0; };
    result.p50_us = us(nearest_rank(sorted, 50));
    result.p90_us = us(nearest_rank(sorted, 90));
    result.p99_us = us(nearest_rank(sorted, 99));
    result.p999_us = us(nearest_rank(sorted, 99.9));
    result.max_us = us(static_cast<double>(sorted.back()));
    result.mean_us =
        us(static_cast<double>(std::accumulate(sorted.begin(), sorted.end(), std::int64_t{0})) /
           static_cast<double>(sorted.size()));
    return result;
  }

  // The thread the last delivery came on (the sink worker, the receive loop); 0 before one.
  std::int64_t consumer_thread() const { return consumer_thread_; }

  std::size_t duplicates() {
    std::lock_guard lock(mutex_);
    return duplicates_;
  }
  std::size_t foreign() {
    std::lock_guard lock(mutex_);
    return foreign_;
  }
  // Over all deliveries that carried samples (warm-up included).
  double samples_per_delivery() {
    std::lock_guard lock(mutex_);
    return deliveries_ == 0 ? 0
                            : static_cast<double>(delivered_) / static_cast<double>(deliveries_);
  }
  double single_sample_share() {
    std::lock_guard lock(mutex_);
    return deliveries_ == 0
               ? 0
               : static_cast<double>(single_deliveries_) / static_cast<double>(deliveries_);
  }

 private:
  static constexpr std::int64_t kUnseen = -1;

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::int64_t> latency_ns_;  // by sequence number; kUnseen until received
  std::vector<bool> probed_;              // by partition
  std::size_t received_ = 0;
  std::size_t duplicates_ = 0;
  std::size_t foreign_ = 0;  // messages without a stamp of this run
  std::size_t deliveries_ = 0;
  std::size_t delivered_ = 0;
  std::size_t single_deliveries_ = 0;
  std::atomic<std::int64_t> consumer_thread_ = 0;
};

}  // namespace danube::bench
