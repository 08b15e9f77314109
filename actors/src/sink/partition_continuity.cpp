#include "partition_continuity.hpp"

#include <algorithm>
#include <bit>
#include <cstring>
#include <iterator>

namespace danube::runtime {
namespace {

// FNV-1a, 64 bit: stable across processes and builds, which std::hash is not.
class Fnv1a {
 public:
  void add(const void* data, std::size_t size) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    std::size_t i = 0;
    if constexpr (std::endian::native == std::endian::little) {
      // The same steps over the same bytes, eight per load: every received message is hashed,
      // and a byte at a time spent most of its instructions on loads and the loop.
      for (; i + 8 <= size; i += 8) {
        std::uint64_t word;
        std::memcpy(&word, bytes + i, sizeof word);
        add(word);
      }
    }
    for (; i < size; ++i)
      mix(bytes[i]);
  }
  // Its eight bytes, least significant first.
  void add(std::uint64_t value) {
    mix(value & 0xff);
    mix((value >> 8) & 0xff);
    mix((value >> 16) & 0xff);
    mix((value >> 24) & 0xff);
    mix((value >> 32) & 0xff);
    mix((value >> 40) & 0xff);
    mix((value >> 48) & 0xff);
    mix(value >> 56);
  }
  void add(const std::string& text) {
    add(text.size());  // so that ("ab","c") and ("a","bc") differ
    add(text.data(), text.size());
  }
  std::uint64_t value() const { return hash_; }

 private:
  void mix(std::uint64_t byte) {
    hash_ ^= byte;
    hash_ *= 0x100000001b3ull;
  }

  std::uint64_t hash_ = 0xcbf29ce484222325ull;
};

}  // namespace

MessageIdentity identify(const std::string& producer_name, std::uint64_t request_id,
                         std::uint64_t publish_time, const std::string& payload) {
  Fnv1a hash;
  hash.add(producer_name);
  hash.add(request_id);
  hash.add(publish_time);
  hash.add(payload);
  return MessageIdentity{hash.value(), publish_time};
}

PartitionContinuity::Verdict PartitionContinuity::received(std::uint64_t offset,
                                                           const MessageIdentity& identity) {
  if (!state_.next_expected) {
    start_sequence(offset);  // nothing suspected yet
    return Verdict{Arrival::first, std::nullopt, epoch_};
  }
  std::uint64_t& next = *state_.next_expected;
  if (offset == next) {
    ++next;
    return Verdict{Arrival::in_order, std::nullopt, epoch_};
  }
  if (offset > next) {
    const OffsetGap jumped{next, offset - 1};
    state_.suspected.emplace(next, offset);  // above every earlier range: disjoint
    next = offset + 1;
    return Verdict{Arrival::ahead, jumped, epoch_};
  }
  if (unsuspect(offset)) return Verdict{Arrival::late, std::nullopt, epoch_};
  if (!is_settled(offset)) return Verdict{Arrival::redelivered, std::nullopt, epoch_};
  if (const auto known = state_.recent.find(offset); known != state_.recent.end()) {
    if (known->second == identity.digest) {
      // Without a publish time the identity is the payload alone (a client that sets neither
      // time nor request id): not enough to drop a message, so it is processed again.
      if (identity.publish_time == 0) {
        return Verdict{Arrival::uncertain_duplicate, std::nullopt, epoch_};
      }
      return Verdict{Arrival::already_processed, std::nullopt, epoch_};
    }
    auto lost = start_sequence(offset);
    return Verdict{Arrival::new_sequence, std::nullopt, epoch_, std::move(lost)};
  }
  // Too old to have a recorded identity. A message published after everything processed
  // cannot be one processed before: the offsets started over.
  if (identity.publish_time > state_.newest_publish_time) {
    auto lost = start_sequence(offset);
    return Verdict{Arrival::new_sequence, std::nullopt, epoch_, std::move(lost)};
  }
  return Verdict{Arrival::uncertain_duplicate, std::nullopt, epoch_};
}

void PartitionContinuity::processed(std::uint64_t offset, const MessageIdentity& identity,
                                    std::uint64_t epoch) {
  if (epoch != epoch_) return;
  settle(offset, offset + 1);
  state_.recent[offset] = identity.digest;
  while (state_.recent.size() > kRecentIdentities)
    state_.recent.erase(state_.recent.begin());
  if (recorded_complete_) {
    if (recorded_.size() < kRecentIdentities) {
      recorded_.emplace_back(offset, identity.digest);
    } else {
      recorded_complete_ = false;  // the whole state is the smaller change now
      recorded_.clear();
    }
  }
  state_.newest_publish_time = std::max(state_.newest_publish_time, identity.publish_time);
}

bool PartitionContinuity::unsuspect(std::uint64_t offset) {
  auto& ranges = state_.suspected;
  auto after = ranges.upper_bound(offset);
  if (after == ranges.begin()) return false;
  const auto range = std::prev(after);
  const auto [first, end] = *range;
  if (offset >= end) return false;
  ranges.erase(range);
  if (first < offset) ranges.emplace(first, offset);
  if (offset + 1 < end) ranges.emplace(offset + 1, end);
  return true;
}

std::vector<OffsetGap> PartitionContinuity::confirm_ending_by(std::uint64_t limit) {
  std::vector<OffsetGap> confirmed;
  auto& ranges = state_.suspected;
  // Ranges are disjoint and sorted, so their ends increase too.
  while (!ranges.empty() && ranges.begin()->second <= limit) {
    const auto [first, end] = *ranges.begin();
    ranges.erase(ranges.begin());
    settle(first, end);  // lost: nothing else will settle these offsets
    const OffsetGap gap{first, end - 1};
    state_.unconfirmed_reports.push_back(gap);
    confirmed.push_back(gap);
  }
  return confirmed;
}

std::vector<OffsetGap> PartitionContinuity::confirm_gaps() {
  const auto next = state_.next_expected.value_or(0);
  if (next < kReorderHorizon) return {};
  return confirm_ending_by(next - kReorderHorizon);
}

std::vector<OffsetGap> PartitionContinuity::sweep(bool everything) {
  // A range ending by the mark was suspected at the last sweep (later jumps start above it).
  auto confirmed = confirm_ending_by(everything ? ~std::uint64_t{0} : sweep_mark_);
  sweep_mark_ = state_.suspected.empty() ? 0 : std::prev(state_.suspected.end())->second;
  return confirmed;
}

bool PartitionContinuity::is_settled(std::uint64_t offset) const {
  if (offset < state_.settled_below) return true;
  auto after = state_.settled_ranges.upper_bound(offset);
  if (after == state_.settled_ranges.begin()) return false;
  return offset < std::prev(after)->second;
}

void PartitionContinuity::settle(std::uint64_t first, std::uint64_t end) {
  first = std::max(first, state_.settled_below);
  if (first >= end) return;
  auto& ranges = state_.settled_ranges;
  // Merge with every range that overlaps or touches [first, end).
  auto it = ranges.upper_bound(first);
  if (it != ranges.begin() && std::prev(it)->second >= first) --it;
  while (it != ranges.end() && it->first <= end) {
    first = std::min(first, it->first);
    end = std::max(end, it->second);
    it = ranges.erase(it);
  }
  ranges.emplace(first, end);
  // Absorb what now continues the contiguous prefix.
  while (!ranges.empty() && ranges.begin()->first <= state_.settled_below) {
    state_.settled_below = std::max(state_.settled_below, ranges.begin()->second);
    ranges.erase(ranges.begin());
  }
  // Bounded memory: past the limit, the oldest hole counts as settled. A redelivery of one of
  // its offsets is then processed again as an uncertain duplicate, never dropped.
  while (ranges.size() > kMaxSettledRanges) {
    state_.settled_below = ranges.begin()->second;
    ranges.erase(ranges.begin());
  }
}

std::vector<OffsetGap> PartitionContinuity::start_sequence(std::uint64_t offset) {
  auto lost = sweep(true);
  ++epoch_;
  sweep_mark_ = 0;
  const auto newest_publish_time = state_.newest_publish_time;
  auto unconfirmed = std::move(state_.unconfirmed_reports);
  state_ = State{};
  recorded_.clear();
  recorded_complete_ = false;
  state_.unconfirmed_reports = std::move(unconfirmed);
  state_.next_expected = offset + 1;
  state_.settled_below = offset;
  state_.newest_publish_time = newest_publish_time;
  return lost;
}

std::string_view to_string(PartitionContinuity::Arrival arrival) {
  using Arrival = PartitionContinuity::Arrival;
  switch (arrival) {
    case Arrival::first:
      return "first";
    case Arrival::in_order:
      return "in_order";
    case Arrival::ahead:
      return "ahead";
    case Arrival::late:
      return "late";
    case Arrival::redelivered:
      return "redelivered";
    case Arrival::already_processed:
      return "already_processed";
    case Arrival::uncertain_duplicate:
      return "uncertain_duplicate";
    case Arrival::new_sequence:
      return "new_sequence";
  }
  return "unknown";
}

}  // namespace danube::runtime
