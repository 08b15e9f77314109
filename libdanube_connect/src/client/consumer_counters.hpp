#pragma once

#include <atomic>
#include <cstdint>

namespace danube::client::detail {

// Counters shared by a consumer's readers and its ack pipeline.
struct ConsumerCounters {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> nacked{0};
  std::atomic<std::uint64_t> ack_failures{0};
  std::atomic<std::uint64_t> stream_reopens{0};
  std::atomic<std::uint64_t> resubscribes{0};
};

}  // namespace danube::client::detail
