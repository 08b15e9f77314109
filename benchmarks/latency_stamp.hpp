#pragma once

// The header the latency benchmark writes at the front of every payload: what the message is
// for and when it was sent. Danube's publish_time has millisecond resolution, too coarse for
// the sub-millisecond figures we want, and the producer and both kinds of consumer share one
// process, so the steady clock in nanoseconds serves both ends.
//
// Layout (17 bytes, then filler up to the payload size): kind (1 byte), sequence number
// (8 bytes), send time (8 bytes), both in host byte order since only this process reads them.
#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>

namespace danube::bench {

enum class StampKind : std::uint8_t {
  probe = 'P',   // sent until every partition delivered one: the subscription is live
  sample = 'S',  // a numbered message whose latency counts
};

struct LatencyStamp {
  StampKind kind = StampKind::sample;
  std::uint64_t sequence = 0;
  std::int64_t sent_ns = 0;
};

inline constexpr std::size_t kStampBytes = 1 + sizeof(std::uint64_t) + sizeof(std::int64_t);

inline std::int64_t steady_now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// A payload of max(size, kStampBytes) bytes starting with `stamp`.
inline std::string stamped_payload(const LatencyStamp& stamp, std::size_t size) {
  std::string payload(std::max(size, kStampBytes), 'x');
  payload[0] = static_cast<char>(stamp.kind);
  std::memcpy(payload.data() + 1, &stamp.sequence, sizeof stamp.sequence);
  std::memcpy(payload.data() + 1 + sizeof stamp.sequence, &stamp.sent_ns, sizeof stamp.sent_ns);
  return payload;
}

// The stamp at the front of `payload`; nullopt when it carries none (too short, unknown kind).
inline std::optional<LatencyStamp> read_stamp(std::span<const std::uint8_t> payload) {
  if (payload.size() < kStampBytes) return std::nullopt;
  LatencyStamp stamp;
  const auto kind = static_cast<StampKind>(payload[0]);
  if (kind != StampKind::probe && kind != StampKind::sample) return std::nullopt;
  stamp.kind = kind;
  std::memcpy(&stamp.sequence, payload.data() + 1, sizeof stamp.sequence);
  std::memcpy(&stamp.sent_ns, payload.data() + 1 + sizeof stamp.sequence, sizeof stamp.sent_ns);
  return stamp;
}

}  // namespace danube::bench
