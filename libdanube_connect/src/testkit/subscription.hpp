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
#include <vector>

#include "change_signal.hpp"
#include "danube/DanubeApi.pb.h"
#include "danube/testkit/embedded_broker.hpp"
#include "message_log.hpp"
#include "receive_stream.hpp"
#include "timer_queue.hpp"

namespace danube::testkit::internal {

// The numbers are the wire values of danube.ConsumerRequest.SubscriptionType.
enum class SubscriptionType { exclusive = 0, shared = 1, failover = 2, key_shared = 3 };
std::string_view to_string(SubscriptionType type);

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
      dead_lettered{0};
  TopicCounters read() const {
    return TopicCounters{published.load(),   delivered.load(), acked.load(),
                         redelivered.load(), dropped.load(),   dead_lettered.load()};
  }
};

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
  TimerQueue* timers = nullptr;
  ChangeSignal* signal = nullptr;
  // Publishes a poison message to the dead-letter topic. Called without any lock held.
  std::function<void(danube::StreamMessage)> publish_dead_letter;
};

// One subscription of a topic and its dispatcher.
//
// Reliable topics (at least once): a window of up to max_unacked dispatched-but-unacked offsets.
// The cursor (first offset not yet acked) is the lowest offset in the window, or next_offset_
// when the window is empty, so out-of-order acks need no extra bookkeeping and the cursor only
// moves over contiguous acks. Nacks and ack timeouts schedule a redelivery after
// min(backoff_max, max(requested delay, backoff_initial * 2^(attempts-1))); a message delivered
// more than 1 + max_redelivery_count times meets the poison policy. In-flight messages of a
// consumer whose stream ends (or is replaced, or taken over) are redelivered at once.
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
  Subscription(std::string name, SubscriptionType type, SubscriptionEnv env,
               std::uint64_t start_offset);

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
  // Reliable: true when the ack settled an unacked message (false: a late or unknown ack).
  bool ack(std::uint64_t offset);
  void nack(std::uint64_t offset, std::optional<std::uint64_t> delay_ms, std::string reason);
  // Non-reliable: false when the message was dropped.
  bool deliver(const std::shared_ptr<const danube::StreamMessage>& message);

  std::uint64_t cursor() const { return cursor_.load(); }
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
    std::uint64_t offset = 0;
    std::uint32_t attempts = 0;
  };
  // Work that must run after the mutex is released.
  struct Deferred {
    std::vector<danube::StreamMessage> dead_letters;
    std::vector<std::shared_ptr<ReceiveStream>> streams_to_end;
    grpc::Status end_status;
  };

  Member* find_member(std::uint64_t consumer_id);
  Member* pick_consumer(const danube::StreamMessage& message);
  bool is_connected(const Member& member) const;
  bool any_connected() const;
  bool send(std::uint64_t offset, Pending& pending, Member& member);
  void fill_window(Deferred& deferred);
  void redeliver_consumer(std::uint64_t consumer_id);
  void schedule_retry(std::uint64_t offset, Pending& pending, std::optional<std::uint64_t> delay_ms,
                      std::string reason);
  void retry_due(std::uint64_t offset, std::uint32_t attempts);
  void arm_ack_timer();
  void ack_timer_fired(std::uint64_t generation);
  void drop_stale_deadlines();
  void erase_pending(std::map<std::uint64_t, Pending>::iterator it);
  void update_cursor();
  void finish(Deferred& deferred);
  danube::StreamMessage make_dead_letter(const Pending& pending) const;

  const std::string name_;
  const SubscriptionType type_;
  const SubscriptionEnv env_;

  mutable std::mutex mutex_;
  std::vector<Member> members_;  // subscription order
  std::size_t round_robin_ = 0;
  std::map<std::uint64_t, Pending> window_;  // reliable: dispatched, not yet acked
  std::set<std::uint64_t> ready_;            // window offsets waiting for a consumer
  std::set<std::uint64_t> exhausted_;        // window offsets out of redeliveries
  std::deque<AckDeadline> deadlines_;        // send order == due order (one ack timeout)
  bool ack_timer_armed_ = false;
  std::uint64_t ack_timer_generation_ = 0;
  std::uint64_t next_offset_ = 0;
  std::atomic<std::uint64_t> cursor_{0};
};

// Glob match with '*' (any run) and '?' (any one character), for KeyShared key filters.
bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace danube::testkit::internal
