#pragma once

// What the benchmark programs share: wall-clock milliseconds (to compare with a message's
// publish time) and percentiles of latency samples.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace danube::bench {

inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The p-th percentile (0..100) by nearest rank; 0 for no samples.
inline double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(p / 100.0 * static_cast<double>(values.size()));
  return values[std::min(values.size() - 1, rank)];
}

}  // namespace danube::bench
