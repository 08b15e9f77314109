#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace danube::runtime {

// What identifies a message across broker restarts, where offsets do not (a Danube 0.15 broker
// in cluster mode numbers new messages from 0 again after a restart): a digest of the
// producer's name, its request id, the publish time and the payload, plus the publish time.
struct MessageIdentity {
  std::uint64_t digest = 0;
  std::uint64_t publish_time = 0;  // milliseconds since the Unix epoch, set by the producer
};

MessageIdentity identify(const std::string& producer_name, std::uint64_t request_id,
                         std::uint64_t publish_time, const std::string& payload);

// Offsets a broker skipped: [first, last].
struct OffsetGap {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::uint64_t count() const { return last - first + 1; }
  bool operator==(const OffsetGap&) const = default;
};

// The continuity of one partition of a reliable topic, as one sink sees it: which offsets it
// expects next, which ones it has settled (processed, dead-lettered or lost), and the identities
// of the latest processed ones. Pure bookkeeping; the consumer actor persists `State` before it
// acks, so after a crash the state never claims more than the broker has been told.
//
// Offsets below the expected one are redeliveries, or the start of a new offset sequence after
// a broker restart. The identity decides which: a known offset whose recorded identity matches
// was processed already; one that does not match, or one too old to be recorded whose publish
// time is newer than anything processed, starts a new sequence.
class PartitionContinuity {
 public:
  // Identities kept for the newest processed offsets: enough to recognise what a restarted sink
  // or broker sends again, without growing with the topic.
  static constexpr std::size_t kRecentIdentities = 512;
  // Settled ranges above the contiguous prefix; a sink has at most its in-flight records there.
  static constexpr std::size_t kMaxSettledRanges = 100000;
  // How far past a jumped-over offset the stream must be before the offset counts as lost.
  // Danube delivers a partition's offsets out of order when its producer has several sends in
  // flight (measured on 0.15.1: inversions of a few offsets); skipped offsets never come.
  static constexpr std::uint64_t kReorderHorizon = 1024;

  struct State {
    // The next offset expected; unset until the first message (a new subscription starts at the
    // broker's newest message, so nothing before it can be missed).
    std::optional<std::uint64_t> next_expected;
    // Every offset from the first seen up to this one (exclusive) is settled.
    std::uint64_t settled_below = 0;
    // Settled ranges [first, end) above settled_below, disjoint and not adjacent.
    std::map<std::uint64_t, std::uint64_t> settled_ranges;
    // The newest processed offsets and their identity digests.
    std::map<std::uint64_t, std::uint64_t> recent;
    std::uint64_t newest_publish_time = 0;  // of everything processed
    // Gaps settled in this state whose report may not have reached the gap file yet. The
    // state is saved with them before the report is written, and they are cleared after it: a
    // sink killed in between finds them on restart and reports each one that the gap file
    // lacks, so a loss is reported once, never twice and never not at all.
    std::vector<OffsetGap> unconfirmed_reports;
    // Offsets jumped over that have not arrived yet, [first, end): lost once confirm_gaps() or
    // sweep() says so, delivered late (out of order) otherwise.
    std::map<std::uint64_t, std::uint64_t> suspected;
    bool operator==(const State&) const = default;
  };

  enum class Arrival {
    first,                // the first message of a subscription without history
    in_order,             // the expected offset
    ahead,                // later than expected: the offsets in `gap` are suspected lost
    late,                 // a suspected offset after all (out of order): process it
    redelivered,          // below expected and not processed yet: process it
    already_processed,    // below expected, processed, same identity: ack without processing
    uncertain_duplicate,  // below expected, processed, identity not recorded: process again
    new_sequence,         // the broker's offsets started over: a new baseline
  };

  struct Verdict {
    Arrival arrival = Arrival::in_order;
    std::optional<OffsetGap> gap;  // set with ahead: the offsets jumped over
    std::uint64_t epoch = 0;       // hand back to processed()
    // With new_sequence: offsets of the old sequence still suspected, lost now (they can no
    // longer arrive under their old numbers); settled and in State::unconfirmed_reports.
    std::vector<OffsetGap> lost{};
  };

  PartitionContinuity() = default;
  explicit PartitionContinuity(State state) : state_(std::move(state)) {}

  Verdict received(std::uint64_t offset, const MessageIdentity& identity);
  // Suspected offsets that are lost for sure: ranges the stream is kReorderHorizon past. Each
  // gap returned is settled and added to State::unconfirmed_reports.
  std::vector<OffsetGap> confirm_gaps();
  // The same for every offset that was suspected at the previous sweep and still is (call it
  // periodically while has_suspected()), or, with `everything`, for all suspected offsets (the
  // stream has ended).
  std::vector<OffsetGap> sweep(bool everything = false);
  bool has_suspected() const { return !state_.suspected.empty(); }
  // The gaps in State::unconfirmed_reports are in the gap file now.
  void reports_confirmed() { state_.unconfirmed_reports.clear(); }

  // The (offset, digest) pairs processed() added to State::recent since clear_recorded(), in
  // order, so that a save can write just those; nullptr when they no longer describe the change
  // (a new sequence replaced the state, or more were added than State::recent holds) and the
  // whole state must be written.
  using RecordedIdentities = std::vector<std::pair<std::uint64_t, std::uint64_t>>;
  const RecordedIdentities* recorded() const { return recorded_complete_ ? &recorded_ : nullptr; }
  void clear_recorded() {
    recorded_.clear();
    recorded_complete_ = true;
  }
  // A record received in `epoch` was settled (processed, skipped or dead-lettered). Records
  // from before a new sequence began are ignored: their offsets mean something else now.
  void processed(std::uint64_t offset, const MessageIdentity& identity, std::uint64_t epoch);

  // What to persist. next_expected stays the offset after the newest one received: offsets
  // received but not settled are unacked, and the broker sends them again after a restart, in
  // whatever order; they are redeliveries then, never a gap.
  const State& state() const { return state_; }
  std::uint64_t epoch() const { return epoch_; }

 private:
  bool is_settled(std::uint64_t offset) const;
  void settle(std::uint64_t first, std::uint64_t end);
  // Returns what was still suspected of the old sequence, now confirmed lost.
  std::vector<OffsetGap> start_sequence(std::uint64_t offset);
  // Confirms, whole, every suspected range that ends by `limit`.
  std::vector<OffsetGap> confirm_ending_by(std::uint64_t limit);
  bool unsuspect(std::uint64_t offset);

  State state_;
  std::uint64_t epoch_ = 0;
  std::uint64_t sweep_mark_ = 0;  // suspected offsets below it were suspected at the last sweep
  RecordedIdentities recorded_;
  bool recorded_complete_ = true;
};

std::string_view to_string(PartitionContinuity::Arrival arrival);

}  // namespace danube::runtime
