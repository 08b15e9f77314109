#pragma once

// What a benchmark's sink connector processed, shared with the thread that measures it: how
// many records in how many batches, when the last batch finished, and each record's latency from
// publish time.
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <span>
#include <vector>

#include "bench_stats.hpp"
#include "danube/connect/connect.hpp"

namespace danube::bench {

class ProcessedRecords {
 public:
  using Clock = std::chrono::steady_clock;

  // Called from process_batch, once the batch is done.
  void add(std::span<const connect::SinkRecord> records) {
    const auto now = now_ms();
    std::lock_guard lock(mutex_);
    for (const auto& record : records) {
      latencies_ms_.push_back(static_cast<double>(now) -
                              static_cast<double>(record.publish_time_us() / 1000));
    }
    processed_ += records.size();
    ++batches_;
    last_ = Clock::now();
    changed_.notify_all();
  }

  void wait_for(std::size_t count) {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [&] { return processed_ >= count; });
  }

  // Read once wait_for has returned and the sink is idle.
  Clock::time_point last() {
    std::lock_guard lock(mutex_);
    return last_;
  }
  std::size_t batches() {
    std::lock_guard lock(mutex_);
    return batches_;
  }
  std::vector<double> latencies_ms() {
    std::lock_guard lock(mutex_);
    return latencies_ms_;
  }

 private:
  std::mutex mutex_;
  std::condition_variable changed_;
  std::size_t processed_ = 0;
  std::size_t batches_ = 0;
  std::vector<double> latencies_ms_;
  Clock::time_point last_{};
};

}  // namespace danube::bench
