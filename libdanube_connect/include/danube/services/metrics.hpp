#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "danube/connect/error_type.hpp"
#include "danube/services/health_checker.hpp"

namespace prometheus {
class Registry;
}

namespace danube::services {

using connect::ErrorType;
using connect::kErrorTypeCount;

// The process-wide metrics registry (the one piece of global mutable state the SDK allows).
std::shared_ptr<prometheus::Registry> default_metrics_registry();

// Histogram bucket bounds, explicit so dashboards can rely on them.
struct MetricBuckets {
  static const std::vector<double>& latency_seconds();  // 0.5 ms .. 60 s
  // 100 us .. 300 s: publish time has millisecond resolution, so the buckets below 1 ms say
  // how the truncation falls as much as how fast delivery was.
  static const std::vector<double>& end_to_end_latency_seconds();
  static const std::vector<double>& batch_size();  // 1 .. 10000
};

// The metrics of one connector, labelled `connector` (its name) and `topic` (the logical
// topic), plus a bounded `error_type` (ErrorType) on failure counters. Names (all prefixed
// `danube_connector_`):
//   messages_received_total, messages_processed_total, messages_failed_total{error_type},
//   messages_retried_total, messages_dead_lettered_total{error_type}, messages_acked_total,
//   processing_duration_seconds (histogram), batch_size (histogram),
//   ack_latency_seconds (histogram), publish_latency_seconds (histogram),
//   end_to_end_latency_seconds (histogram; sinks: the producer's publish time to process_batch),
//   inflight_messages (gauge), reconnects_total,
//   messages_lost_total (sinks: offsets the broker skipped), redeliveries_skipped_total (sinks:
//   redeliveries of what was processed before, acked without processing),
//   schema_cache_requests_total{result="hit"|"miss"} (connector only),
//   health (gauge: 1 healthy, 0.5 degraded, 0 unhealthy or stopped; connector only).
// Thread-safe; per-topic handles are created on first use and cached.
class ConnectorMetrics {
 public:
  ConnectorMetrics(std::string connector_name,
                   std::shared_ptr<prometheus::Registry> registry = default_metrics_registry());
  ~ConnectorMetrics();
  ConnectorMetrics(const ConnectorMetrics&) = delete;
  ConnectorMetrics& operator=(const ConnectorMetrics&) = delete;

  // Creates `topic`'s series at 0 before its first message, so that rate() and increase()
  // count that message too (a series that appears already at 1 loses its first increment).
  // The runtime declares every topic a connector subscribes or publishes to.
  void declare_topic(std::string_view topic);

  void record_received(std::string_view topic, std::uint64_t count = 1);
  void record_processed(std::string_view topic, std::uint64_t count = 1);
  void record_failed(std::string_view topic, ErrorType error_type, std::uint64_t count = 1);
  void record_retried(std::string_view topic, std::uint64_t count = 1);
  void record_dead_lettered(std::string_view topic, ErrorType error_type, std::uint64_t count = 1);
  void record_acked(std::string_view topic, std::uint64_t count = 1);
  void record_reconnect(std::string_view topic);
  void record_lost(std::string_view topic, std::uint64_t count);
  void record_redelivery_skipped(std::string_view topic, std::uint64_t count = 1);

  void observe_processing_duration(std::string_view topic, std::chrono::duration<double> elapsed);
  void observe_batch_size(std::string_view topic, std::size_t records);
  void observe_ack_latency(std::string_view topic, std::chrono::duration<double> elapsed);
  void observe_publish_latency(std::string_view topic, std::chrono::duration<double> elapsed);
  // Sinks, once per batch and topic: for each record, seconds from its publish time to the
  // call of process_batch.
  void observe_end_to_end_latency(std::string_view topic, std::span<const double> seconds);

  void set_inflight(std::string_view topic, std::int64_t messages);
  void add_inflight(std::string_view topic, std::int64_t delta);

  // The sink buffer ([sink_buffer]): what it holds, what went in, what a start found in it,
  // and how long each group fsync took.
  void add_buffered(std::string_view topic, std::int64_t messages, std::int64_t bytes);
  void record_buffer_appended(std::string_view topic, std::uint64_t count);
  void record_buffer_replayed(std::string_view topic, std::uint64_t count);
  void observe_buffer_sync(std::string_view topic, std::chrono::duration<double> elapsed);

  void record_schema_cache_hit();
  void record_schema_cache_miss();

  void set_health(HealthStatus status);
  // false = stopped (0).
  void set_health(bool healthy);

  // What the per-topic series count so far (failures and dead letters summed over their error
  // types), for status reports; topics in name order.
  struct TopicTotals {
    std::string topic;
    std::uint64_t received = 0;
    std::uint64_t processed = 0;
    std::uint64_t acked = 0;
    std::uint64_t failed = 0;
    std::uint64_t retried = 0;
    std::uint64_t dead_lettered = 0;
    std::uint64_t lost = 0;
    std::uint64_t redeliveries_skipped = 0;
    std::int64_t inflight = 0;
  };
  std::vector<TopicTotals> topic_totals() const;

  const std::string& connector_name() const { return connector_; }
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  struct Families;
  struct TopicHandles;
  struct BufferHandles;
  TopicHandles& topic(std::string_view topic);
  BufferHandles& buffer(std::string_view topic);

  std::string connector_;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<Families> families_;
  struct TopicCache;
  std::unique_ptr<TopicCache> topics_;
};

// The registry in Prometheus text format (what /metrics serves).
std::string render_metrics(const prometheus::Registry& registry);

}  // namespace danube::services
