#pragma once

// An in-process broker that speaks Danube's client protocol (the `danube` and `danube_schema`
// gRPC packages) with Danube's semantics. It is a test harness and the default broker of the demo
// and the benchmarks; it is not a replacement for Danube in production.
//
// This header deliberately includes no gRPC header: tests and tools that only start and observe
// a broker stay free of gRPC's compile cost. Status codes are passed as plain ints (the values of
// grpc::StatusCode).

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace danube::testkit {

// The rpcs fault injection can target. `schema_registry` stands for every rpc of
// danube_schema.SchemaRegistry.
enum class Rpc {
  create_producer,
  send_message,
  subscribe,
  receive_messages,
  ack,
  nack,
  topic_lookup,
  topic_partitions,
  health_check,
  schema_registry
};

enum class FsyncPolicy { always, interval, never };

// What happens to a reliable message whose redeliveries are exhausted.
//   block       - it stays unacked and the subscription dispatches nothing past it (Danube's
//                 default; keeps order, stalls the subscription)
//   drop        - it is treated as acked and counted as dropped
//   dead_letter - it is published to `dead_letter_topic` (created as a reliable topic when
//                 missing) with x-original-* attributes, then treated as acked
enum class PoisonPolicy { block, drop, dead_letter };

// How reliable subscriptions are fed (docs/embedded-broker.md, "Dispatch modes").
//   lossless    - a subscription gets every message published after it was created, however far
//                 behind its consumers fall (the default, for tests that are about other things)
//   danube_0_15 - as the real Danube 0.15.1 broker was measured to behave: a subscription the
//                 broker creates without a persisted cursor reads a live tail of 256 entries, so
//                 a consumer more than max_unacked_messages + 256 behind loses the excess for
//                 good (counted in skipped_by_lag) and the cursor stops at the gap; cursors are
//                 persisted only when they advance, at most every cursor_persist_interval and
//                 not at shutdown; Ack/Nack for an unknown topic answer INTERNAL
enum class DispatchFidelity { lossless, danube_0_15 };

struct TlsOptions {
  std::filesystem::path cert_file, key_file;  // PEM; server-only TLS, no client certificates
};

struct BrokerOptions {
  std::string listen_address = "127.0.0.1:0";
  std::optional<std::filesystem::path> data_dir;  // nullopt: everything in memory
  FsyncPolicy fsync = FsyncPolicy::interval;      // interval: fsync every fsync_interval
  std::chrono::milliseconds fsync_interval{200};
  std::vector<std::string> namespaces{"default"};
  bool auto_create_topics = true;
  std::uint32_t max_unacked_messages = 10;
  std::chrono::milliseconds ack_timeout{30000};
  std::uint32_t max_redelivery_count = 5;
  std::chrono::milliseconds redelivery_backoff_initial{1000};
  std::chrono::milliseconds redelivery_backoff_max{60000};
  PoisonPolicy poison_policy = PoisonPolicy::block;
  std::string dead_letter_topic;                    // for PoisonPolicy::dead_letter
  std::size_t max_message_size = 10 * 1024 * 1024;  // policy; gRPC receive limit stays 4 MiB
  // Upper bound on the bytes a reliable topic keeps in memory for its subscriptions; a publish
  // beyond it gets RESOURCE_EXHAUSTED (retryable) until consumers catch up. Real Danube spills to
  // its WAL on disk instead; this keeps the embedded broker's memory bounded.
  std::size_t max_topic_backlog_bytes = 512 * 1024 * 1024;
  std::optional<TlsOptions> tls;
  std::optional<std::string> jwt_secret;  // set: every rpc needs a valid HS256 token
  DispatchFidelity dispatch_fidelity = DispatchFidelity::lossless;
  // danube_0_15: a subscription cursor is persisted when it advances, and at most this often
  // (Danube passes 10 s); 0 persists every advance. Lossless mode persists on every flush and at
  // shutdown.
  std::chrono::milliseconds cursor_persist_interval{10000};
  // With data_dir: each start begins the offsets of new messages at 0 again, while a subscription
  // resumed from its persisted cursor first replays the old entries with their old offsets, as
  // Danube 0.15.1 does in cluster mode. Offsets are then not unique across restarts.
  bool cluster_like = false;
  // Reliable subscriptions deliver every Nth entry after the one behind it (0: never), as
  // Danube 0.15.1 does when a producer has several sends in flight (measured: inversions of a
  // few offsets in a partition). Offsets then arrive out of order, never missing.
  std::uint32_t reorder_every = 0;
};

// A half-open range of topic offsets [first, end).
struct OffsetRange {
  std::uint64_t first = 0;
  std::uint64_t end = 0;
  bool operator==(const OffsetRange&) const = default;
};

// Monotonic per-topic counters (see embedded_broker.cpp for the exact rules).
struct TopicCounters {
  std::uint64_t published = 0;      // SendMessage calls answered OK
  std::uint64_t delivered = 0;      // messages written to a consumer stream (redeliveries included)
  std::uint64_t acked = 0;          // acks that settled an unacked reliable message
  std::uint64_t redelivered = 0;    // reliable messages sent again (nack, ack timeout, disconnect)
  std::uint64_t dropped = 0;        // non-reliable drops, and poison messages dropped
  std::uint64_t dead_lettered = 0;  // poison messages moved to the dead-letter topic
  std::uint64_t skipped_by_lag = 0;  // danube_0_15: offsets subscriptions skipped because they fell
                                     // more than 256 behind their live tail (summed over them)
};

// A view of one subscription, for tests that wait on dispatcher state. Offsets are the ones
// consumers see (after a cluster_like restart the same offset can name an old and a new entry).
struct SubscriptionSnapshot {
  std::string type;                     // "Exclusive", "Shared", "Failover" or "KeyShared"
  std::size_t consumers = 0;            // registered consumers (active or not)
  std::size_t connected_consumers = 0;  // consumers with a ReceiveMessages stream (until its
                                        // end has been fully processed)
  std::size_t in_flight = 0;            // reliable: unacked messages in the dispatch window
  std::uint64_t cursor = 0;             // reliable: first offset not yet acked (danube_0_15: a
                                        // skipped offset counts as not acked, so after a gap the
                                        // cursor stays at the gap's first offset)
  std::uint64_t next_offset = 0;        // reliable: next offset to dispatch for the first time
  // Reliable topics in danube_0_15 mode (lossless mode leaves these empty):
  bool live_tail = false;                         // reads the 256-entry live tail; false while a
                                                  // subscription restored from a persisted cursor
                                                  // replays the log written before the start
  std::uint64_t skipped_by_lag = 0;               // offsets skipped because the tail overran them
  std::vector<OffsetRange> skipped;               // those offsets, in the order they were skipped
  std::uint64_t acked_beyond_cursor = 0;          // acks past a gap, which the cursor never passes
  std::optional<std::uint64_t> persisted_cursor;  // the cursor as last persisted (what a
                                                  // restart with data_dir resumes from)
};

class EmbeddedBroker {
 public:
  explicit EmbeddedBroker(BrokerOptions options = {});
  ~EmbeddedBroker();  // stops if running
  EmbeddedBroker(const EmbeddedBroker&) = delete;
  EmbeddedBroker& operator=(const EmbeddedBroker&) = delete;

  void start();    // throws std::runtime_error naming the address on failure
  void stop();     // graceful; flushes logs/cursors; idempotent
  void restart();  // stop() then start() on the same port
  bool running() const;
  std::uint16_t port() const;
  std::string address() const;      // "127.0.0.1:PORT"
  std::string service_url() const;  // "http://127.0.0.1:PORT" ("https://" with TLS)

  // Fault injection. A failed call is answered with the status without being processed; latency
  // delays processing (and so the answer) of every later call of that rpc.
  void fail_next(Rpc rpc, int count, int grpc_status_code, std::string message = "injected fault");
  void set_latency(Rpc rpc, std::chrono::milliseconds latency);  // 0 clears
  void cut_streams();  // ends every open ReceiveMessages stream with UNAVAILABLE
  // Unary calls currently held back by set_latency() (lets a test know a call is in flight).
  std::size_t delayed_calls() const;

  // Administration, like Danube's admin api. Both throw std::invalid_argument on a bad name and
  // std::runtime_error when the broker is not running or the topic cannot be created.
  void create_namespace(const std::string& name);
  // partitions == 0: one topic `name`; otherwise `name-part-0` ... `name-part-(partitions-1)`.
  void create_topic(const std::string& name, bool reliable, std::size_t partitions = 0);

  // Observation.
  std::optional<TopicCounters> counters(const std::string& topic) const;
  std::vector<std::string> topics() const;
  std::optional<SubscriptionSnapshot> subscription(const std::string& topic,
                                                   const std::string& subscription) const;
  // Blocks until pred(counters(topic)) holds or the timeout passes; returns whether it held.
  // (Lets tests wait on events instead of sleeping.)
  bool wait_for_counters(const std::string& topic, std::function<bool(const TopicCounters&)> pred,
                         std::chrono::milliseconds timeout) const;
  // The same for any condition on the broker's observable state (counters, subscriptions):
  // `pred` is re-evaluated whenever that state changes.
  bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout) const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace danube::testkit
