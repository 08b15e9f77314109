#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "change_signal.hpp"
#include "danube/DanubeApi.pb.h"
#include "danube/common/subscription_type.hpp"
#include "danube/testkit/embedded_broker.hpp"
#include "message_log.hpp"
#include "receive_stream.hpp"
#include "timer_queue.hpp"

namespace danube::testkit::internal {

using danube::SubscriptionType;  // its numbers are the wire values

// The broker-wide failure policy of reliable subscriptions (Danube's SubscriptionFailurePolicy).
struct DeliveryPolicy {
  std::uint32_t max_unacked = 10;
  std::chrono::milliseconds ack_timeout{30000};
  std::uint32_t max_redelivery_count = 5;
  std::chrono::milliseconds backoff_initial{1000};
  std::chrono::milliseconds backoff_max{60000};
  PoisonPolicy poison = PoisonPolicy::block;
};

// Per-topic counters, updated lock-free from the publish and deliver paths.
struct TopicStats {
  std::atomic<std::uint64_t> published{0}, delivered{0}, acked{0}, redelivered{0}, dropped{0},
      dead_lettered{0}, skipped_by_lag{0};
  TopicCounters read() const {
    return TopicCounters{published.load(),     delivered.load(), acked.load(),
                         redelivered.load(),   dropped.load(),   dead_lettered.load(),
                         skipped_by_lag.load()};
  }
};

// Danube 0.15.1 feeds a subscription created without a persisted cursor from its WAL's live
// tail, a tokio broadcast channel of this many entries (wal.rs, broadcast::channel(256)).
inline constexpr std::uint64_t kLiveTailCapacity = 256;

class Subscription;

// A consumer as Subscribe created it. The broker's consumer registry and the subscription share
// it; `active` is what HealthCheck reports.
struct ConsumerInfo {
  std::uint64_t id = 0;
  std::string name;
  std::string topic;
  std::string subscription_name;
  std::vector<std::string> key_filters;  // KeyShared: glob patterns ('*', '?'); empty = any key
  std::atomic<bool> active{true};
  std::weak_ptr<Subscription> subscription;
};

// What a subscription needs from its topic and the broker.
struct SubscriptionEnv {
  std::string topic_name;
  bool reliable = false;
  std::shared_ptr<MessageLog> log;  // reliable topics only
  std::shared_ptr<TopicStats> stats;
  DeliveryPolicy policy;
  DispatchFidelity fidelity = DispatchFidelity::lossless;
  std::chrono::milliseconds cursor_persist_interval{10000};  // danube_0_15 only
  std::uint32_t reorder_every = 0;                           // BrokerOptions::reorder_every
  TimerQueue* timers = nullptr;
  ChangeSignal* signal = nullptr;
  // Publishes a poison message to the dead-letter topic. Called without any lock held.
  std::function<void(danube::StreamMessage)> publish_dead_letter;
};

// One subscription of a topic and its dispatcher.
//
// Reliable topics (at least once): a window of up to max_unacked dispatched-but-unacked entries.
// The dispatcher works in log positions (message_log.hpp), which equal the offsets consumers see
// unless a cluster-like restart began a new offset sequence; acks and nacks name offsets and are
// matched against the window. The cursor (first position not yet acked) is the lowest position
// in the window, or next_position_ when the window is empty, so out-of-order acks need no extra
// bookkeeping and the cursor only moves over contiguous acks.
//
// DispatchFidelity::danube_0_15 adds what the real broker does to a lagging subscription: past
// `tail_from_` (where it joined the live tail: its creation, or for a subscription restored from
// a persisted cursor the log end at start-up, before which it replays the log) the dispatcher
// reads only the newest kLiveTailCapacity entries. When it finds itself further behind, which
// can only be noticed when it reads (window room and a connected consumer), it jumps to the
// oldest entry still in the tail and the skipped positions are never dispatched. They count as
// not acked, so the cursor stops at the first of them for good; the log is still trimmed past
// them (retain_from()), since nothing in this process reads them again. Nacks and ack timeouts
// schedule a redelivery after min(backoff_max, max(requested delay, backoff_initial *
// 2^(attempts-1))); a message delivered more than 1 + max_redelivery_count times meets the poison
// policy. In-flight messages of a consumer whose stream ends (or is replaced, or taken over) are
// redelivered at once.
//
// Non-reliable topics (at most once): deliver() hands the message to one consumer's stream queue
// (capacity 4) and reports a drop when that queue is full or no consumer is connected.
//
// Consumer choice: Exclusive and Failover use the first connected consumer in subscription
// order; Shared goes round robin over connected consumers; KeyShared uses rendezvous hashing of
// the routing key (falling back to producer_name) over the connected consumers whose key
// filters match, so a key stays on one consumer while membership does not change.
//
// All state is guarded by one mutex per subscription; nothing here takes a broker-wide lock.
class Subscription : public std::enable_shared_from_this<Subscription> {
 public:
  // `restored`: recreated from a persisted cursor at start-up (start_position is that cursor).
  Subscription(std::string name, SubscriptionType type, SubscriptionEnv env,
               std::uint64_t start_position, bool restored);

  const std::string& name() const { return name_; }
  SubscriptionType type() const { return type_; }

  // Adds consumer `consumer_name`, or takes over the existing consumer of that name (same id;
  // its old stream ends and its in-flight messages are redelivered). An Exclusive subscription
  // whose consumer is still active refuses another name with PERMISSION_DENIED; inactive
  // consumers it replaces are returned in `replaced` so that the registry forgets their ids.
  grpc::Status add_consumer(const std::string& consumer_name, std::vector<std::string> key_filters,
                            const std::function<std::uint64_t()>& new_id,
                            std::shared_ptr<ConsumerInfo>& consumer,
                            std::vector<std::uint64_t>& replaced);

  // Makes `stream` the consumer's stream, ending the previous one. False for an unknown id.
  bool attach_stream(std::uint64_t consumer_id, std::shared_ptr<ReceiveStream> stream);
  // Called from the stream's OnDone; ignored when that stream was already replaced.
  void stream_closed(std::uint64_t consumer_id, const ReceiveStream& stream);

  // Reliable: new messages were appended to the log.
  void dispatch();
  // Reliable: true when the ack settled an unacked message (false: a late or unknown ack, or an
  // offset the dispatcher skipped, which Danube also answers OK and ignores).
  bool ack(std::uint64_t offset);
  void nack(std::uint64_t offset, std::optional<std::uint64_t> delay_ms, std::string reason);
  // Non-reliable: false when the message was dropped.
  bool deliver(const std::shared_ptr<const danube::StreamMessage>& message);

  // Positions. cursor(): what a restart resumes from (lossless mode persists it on every flush).
  // retain_from(): the lowest position this process may still read (the log is trimmed below it);
  // the two differ only after danube_0_15 skipped entries.
  std::uint64_t cursor() const { return cursor_.load(); }
  std::uint64_t retain_from() const { return retain_from_.load(); }
  // danube_0_15: the cursor to write now, when it advanced past the last persisted one (or the
  // start) and cursor_persist_interval has passed since the last write; nullopt otherwise.
  std::optional<std::uint64_t> cursor_due_for_persist(TimerQueue::Clock::time_point now) const;
  std::optional<std::uint64_t> persisted_cursor() const;
  void mark_persisted(std::uint64_t position, TimerQueue::Clock::time_point now);
  SubscriptionSnapshot snapshot() const;
  // Forgets consumers and in-flight state, as a broker restart does; unacked messages will be
  // dispatched again from the cursor.
  void end_sessions();

 private:
  struct Member {
    std::shared_ptr<ConsumerInfo> consumer;
    std::shared_ptr<ReceiveStream> stream;  // null while the consumer has no open stream
  };
  enum class State { ready, awaiting_ack, waiting_retry, exhausted };
  struct Pending {
    std::shared_ptr<const danube::StreamMessage> message;
    std::uint32_t attempts = 0;  // deliveries so far
    State state = State::ready;
    std::uint64_t consumer_id = 0;
    std::string last_failure;
  };
  struct AckDeadline {
    TimerQueue::Clock::time_point due;
    std::uint64_t position = 0;
    std::uint32_t attempts = 0;
  };
  // Work that must run after the mutex is released.
  struct Deferred {
    std::vector<danube::StreamMessage> dead_letters;
    std::vector<std::shared_ptr<ReceiveStream>> streams_to_end;
    grpc::Status end_status;
  };

  bool faithful() const { return env_.fidelity == DispatchFidelity::danube_0_15; }
  // The window position of an acked or nacked offset, nullopt when it is not in the window.
  std::optional<std::uint64_t> window_position(std::uint64_t offset) const;
  void skip_lagged(std::uint64_t end);
  Member* find_member(std::uint64_t consumer_id);
  Member* pick_consumer(const danube::StreamMessage& message);
  bool is_connected(const Member& member) const;
  bool any_connected() const;
  bool send(std::uint64_t position, Pending& pending, Member& member);
  void fill_window(Deferred& deferred);
  // Puts the log entry at `position` in the window and sends it if a consumer can take it;
  // false if the log no longer has it.
  bool dispatch_entry(std::uint64_t position);
  void redeliver_consumer(std::uint64_t consumer_id);
  void schedule_retry(std::uint64_t position, Pending& pending,
                      std::optional<std::uint64_t> delay_ms, std::string reason);
  void retry_due(std::uint64_t position, std::uint32_t attempts);
  void arm_ack_timer();
  void ack_timer_fired(std::uint64_t generation);
  void drop_stale_deadlines();
  void erase_pending(std::map<std::uint64_t, Pending>::iterator it);
  void update_cursor();
  OffsetRange offsets_of(std::uint64_t first_position, std::uint64_t end_position) const;
  void finish(Deferred& deferred);
  danube::StreamMessage make_dead_letter(const Pending& pending) const;

  const std::string name_;
  const SubscriptionType type_;
  const SubscriptionEnv env_;

  mutable std::mutex mutex_;
  std::vector<Member> members_;  // subscription order
  std::size_t round_robin_ = 0;
  std::map<std::uint64_t, Pending> window_;  // reliable, by position: dispatched, unacked
  std::set<std::uint64_t> ready_;            // window positions waiting for a consumer
  std::set<std::uint64_t> exhausted_;        // window positions out of redeliveries
  std::deque<AckDeadline> deadlines_;        // send order == due order (one ack timeout)
  bool ack_timer_armed_ = false;
  std::uint64_t ack_timer_generation_ = 0;
  std::uint64_t next_position_ = 0;
  std::atomic<std::uint64_t> cursor_{0};
  std::atomic<std::uint64_t> retain_from_{0};
  // danube_0_15 state.
  const std::uint64_t start_position_;
  std::uint64_t tail_from_ = 0;             // positions from here on are read from the live tail
  std::optional<std::uint64_t> gap_start_;  // first skipped position: the cursor never passes it
  std::vector<std::pair<std::uint64_t, std::uint64_t>> skipped_;  // [first, end) positions
  std::uint64_t skipped_count_ = 0;
  std::uint64_t acked_beyond_cursor_ = 0;
  std::optional<std::uint64_t> persisted_cursor_;
  std::optional<TimerQueue::Clock::time_point> last_persist_;
};

// Glob match with '*' (any run) and '?' (any one character), for KeyShared key filters.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace danube::testkit::internal
