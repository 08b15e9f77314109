#include "danube/services/metrics.hpp"

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <array>
#include <map>
#include <mutex>

namespace danube::services {

std::shared_ptr<prometheus::Registry> default_metrics_registry() {
  // The one process-wide registry: every connector of the process registers into it and the
  // HTTP server serves it.
  static const auto registry = std::make_shared<prometheus::Registry>();
  return registry;
}

const std::vector<double>& MetricBuckets::end_to_end_latency_seconds() {
  static const std::vector<double> buckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
                                           0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   2.5,
                                           5.0,    10.0,    30.0,   60.0,  300.0};
  return buckets;
}

const std::vector<double>& MetricBuckets::latency_seconds() {
  static const std::vector<double> buckets{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                           0.25,   0.5,   1.0,    2.5,   5.0,  10.0,  30.0, 60.0};
  return buckets;
}

const std::vector<double>& MetricBuckets::batch_size() {
  static const std::vector<double> buckets{1,   5,   10,   25,   50,   100,
                                           250, 500, 1000, 2500, 5000, 10000};
  return buckets;
}

namespace {
constexpr std::string_view kPrefix = "danube_connector_";

template <class Builder>
auto& named(Builder builder, std::string_view name, const char* help,
            prometheus::Registry& registry) {
  return builder.Name(std::string(kPrefix) + std::string(name)).Help(help).Register(registry);
}
}  // namespace

struct ConnectorMetrics::Families {
  explicit Families(prometheus::Registry& registry)
      : received(named(prometheus::BuildCounter(), "messages_received_total",
                       "Messages received from Danube (sinks) or from the external system "
                       "(sources)",
                       registry)),
        processed(named(prometheus::BuildCounter(), "messages_processed_total",
                        "Messages fully handled: written and acked (sinks) or published "
                        "(sources)",
                        registry)),
        failed(named(prometheus::BuildCounter(), "messages_failed_total",
                     "Message failures by bounded error type", registry)),
        retried(named(prometheus::BuildCounter(), "messages_retried_total",
                      "Message retries after retryable failures", registry)),
        dead_lettered(named(prometheus::BuildCounter(), "messages_dead_lettered_total",
                            "Messages routed to the dead-letter topic", registry)),
        acked(named(prometheus::BuildCounter(), "messages_acked_total",
                    "Messages acknowledged to the broker", registry)),
        reconnects(named(prometheus::BuildCounter(), "reconnects_total",
                         "Consumer or producer reconnections", registry)),
        lost(named(prometheus::BuildCounter(), "messages_lost_total",
                   "Offsets of a reliable topic the broker skipped: never delivered to this sink",
                   registry)),
        redeliveries_skipped(named(prometheus::BuildCounter(), "redeliveries_skipped_total",
                                   "Redelivered messages acked without processing: this sink "
                                   "had processed them before",
                                   registry)),
        processing_duration(named(prometheus::BuildHistogram(), "processing_duration_seconds",
                                  "Time spent in process_batch (sinks) or per publish (sources)",
                                  registry)),
        batch_size(named(prometheus::BuildHistogram(), "batch_size",
                         "Records per processed or published batch", registry)),
        ack_latency(named(prometheus::BuildHistogram(), "ack_latency_seconds",
                          "Time from receiving a message to its ack", registry)),
        publish_latency(named(prometheus::BuildHistogram(), "publish_latency_seconds",
                              "Time from handing a record to the producer to the broker's "
                              "confirmation",
                              registry)),
        end_to_end_latency(named(prometheus::BuildHistogram(), "end_to_end_latency_seconds",
                                 "Sinks: time from a record's publish time (set by its producer, "
                                 "millisecond resolution) to the call of process_batch",
                                 registry)),
        inflight(named(prometheus::BuildGauge(), "inflight_messages",
                       "Messages received but not yet acked (sinks) or not yet confirmed "
                       "(sources)",
                       registry)),
        schema_cache(named(prometheus::BuildCounter(), "schema_cache_requests_total",
                           "Schema cache lookups by result (hit or miss)", registry)),
        health(named(prometheus::BuildGauge(), "health",
                     "1 healthy, 0.5 degraded, 0 unhealthy or stopped", registry)),
        buffer_messages(named(prometheus::BuildGauge(), "sink_buffer_messages",
                              "Messages in the sink buffer, acked to the broker and not yet "
                              "finished by the connector",
                              registry)),
        buffer_bytes(named(prometheus::BuildGauge(), "sink_buffer_bytes",
                           "Bytes of the sink buffer's segment files", registry)),
        buffer_appended(named(prometheus::BuildCounter(), "sink_buffer_appended_total",
                              "Messages written to the sink buffer", registry)),
        buffer_replayed(named(prometheus::BuildCounter(), "sink_buffer_replayed_total",
                              "Messages an earlier run left in the sink buffer, found at start",
                              registry)),
        buffer_sync(named(prometheus::BuildHistogram(), "sink_buffer_sync_duration_seconds",
                          "Time per fsync of the sink buffer (one per group of messages)",
                          registry)) {}

  prometheus::Family<prometheus::Counter>& received;
  prometheus::Family<prometheus::Counter>& processed;
  prometheus::Family<prometheus::Counter>& failed;
  prometheus::Family<prometheus::Counter>& retried;
  prometheus::Family<prometheus::Counter>& dead_lettered;
  prometheus::Family<prometheus::Counter>& acked;
  prometheus::Family<prometheus::Counter>& reconnects;
  prometheus::Family<prometheus::Counter>& lost;
  prometheus::Family<prometheus::Counter>& redeliveries_skipped;
  prometheus::Family<prometheus::Histogram>& processing_duration;
  prometheus::Family<prometheus::Histogram>& batch_size;
  prometheus::Family<prometheus::Histogram>& ack_latency;
  prometheus::Family<prometheus::Histogram>& publish_latency;
  prometheus::Family<prometheus::Histogram>& end_to_end_latency;
  prometheus::Family<prometheus::Gauge>& inflight;
  prometheus::Family<prometheus::Counter>& schema_cache;
  prometheus::Family<prometheus::Gauge>& health;
  prometheus::Family<prometheus::Gauge>& buffer_messages;
  prometheus::Family<prometheus::Gauge>& buffer_bytes;
  prometheus::Family<prometheus::Counter>& buffer_appended;
  prometheus::Family<prometheus::Counter>& buffer_replayed;
  prometheus::Family<prometheus::Histogram>& buffer_sync;
};

// Created on a topic's first buffer metric, so that connectors without a buffer show none.
struct ConnectorMetrics::BufferHandles {
  prometheus::Gauge* messages;
  prometheus::Gauge* bytes;
  prometheus::Counter* appended;
  prometheus::Counter* replayed;
  prometheus::Histogram* sync;
};

struct ConnectorMetrics::TopicHandles {
  prometheus::Counter* received;
  prometheus::Counter* processed;
  prometheus::Counter* retried;
  prometheus::Counter* acked;
  prometheus::Counter* reconnects;
  prometheus::Counter* lost;
  prometheus::Counter* redeliveries_skipped;
  prometheus::Histogram* processing_duration;
  prometheus::Histogram* batch_size;
  prometheus::Histogram* ack_latency;
  prometheus::Histogram* publish_latency;
  prometheus::Histogram* end_to_end_latency;
  prometheus::Gauge* inflight;
  // Created on first use, so the scrape shows only error types that happened.
  std::array<prometheus::Counter*, kErrorTypeCount> failed{};
  std::array<prometheus::Counter*, kErrorTypeCount> dead_lettered{};
  std::unique_ptr<BufferHandles> buffer{};
};

struct ConnectorMetrics::TopicCache {
  std::mutex mutex;
  std::map<std::string, std::unique_ptr<TopicHandles>, std::less<>> topics;
};

ConnectorMetrics::ConnectorMetrics(std::string connector_name,
                                   std::shared_ptr<prometheus::Registry> registry)
    : connector_(std::move(connector_name)),
      registry_(registry ? std::move(registry) : default_metrics_registry()),
      families_(std::make_unique<Families>(*registry_)),
      topics_(std::make_unique<TopicCache>()) {}

ConnectorMetrics::~ConnectorMetrics() = default;

ConnectorMetrics::TopicHandles& ConnectorMetrics::topic(std::string_view topic) {
  std::lock_guard lock(topics_->mutex);
  auto it = topics_->topics.find(topic);
  if (it != topics_->topics.end()) return *it->second;
  const prometheus::Labels labels{{"connector", connector_}, {"topic", std::string(topic)}};
  auto& families = *families_;
  auto handles = std::make_unique<TopicHandles>(TopicHandles{
      &families.received.Add(labels),
      &families.processed.Add(labels),
      &families.retried.Add(labels),
      &families.acked.Add(labels),
      &families.reconnects.Add(labels),
      &families.lost.Add(labels),
      &families.redeliveries_skipped.Add(labels),
      &families.processing_duration.Add(labels, MetricBuckets::latency_seconds()),
      &families.batch_size.Add(labels, MetricBuckets::batch_size()),
      &families.ack_latency.Add(labels, MetricBuckets::latency_seconds()),
      &families.publish_latency.Add(labels, MetricBuckets::latency_seconds()),
      &families.end_to_end_latency.Add(labels, MetricBuckets::end_to_end_latency_seconds()),
      &families.inflight.Add(labels),
  });
  auto& result = *handles;
  topics_->topics.emplace(std::string(topic), std::move(handles));
  return result;
}

void ConnectorMetrics::declare_topic(std::string_view topic_name) {
  topic(topic_name);
}

void ConnectorMetrics::record_received(std::string_view topic_name, std::uint64_t count) {
  topic(topic_name).received->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_processed(std::string_view topic_name, std::uint64_t count) {
  topic(topic_name).processed->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_failed(std::string_view topic_name, ErrorType error_type,
                                     std::uint64_t count) {
  auto& handles = topic(topic_name);
  const auto index = static_cast<std::size_t>(error_type);
  prometheus::Counter* counter;
  {
    std::lock_guard lock(topics_->mutex);
    if (!handles.failed[index]) {
      handles.failed[index] =
          &families_->failed.Add({{"connector", connector_},
                                  {"topic", std::string(topic_name)},
                                  {"error_type", std::string(to_string(error_type))}});
    }
    counter = handles.failed[index];
  }
  counter->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_retried(std::string_view topic_name, std::uint64_t count) {
  topic(topic_name).retried->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_dead_lettered(std::string_view topic_name, ErrorType error_type,
                                            std::uint64_t count) {
  auto& handles = topic(topic_name);
  const auto index = static_cast<std::size_t>(error_type);
  prometheus::Counter* counter;
  {
    std::lock_guard lock(topics_->mutex);
    if (!handles.dead_lettered[index]) {
      handles.dead_lettered[index] =
          &families_->dead_lettered.Add({{"connector", connector_},
                                         {"topic", std::string(topic_name)},
                                         {"error_type", std::string(to_string(error_type))}});
    }
    counter = handles.dead_lettered[index];
  }
  counter->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_acked(std::string_view topic_name, std::uint64_t count) {
  topic(topic_name).acked->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_lost(std::string_view topic_name, std::uint64_t count) {
  topic(topic_name).lost->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_redelivery_skipped(std::string_view topic_name, std::uint64_t count) {
  topic(topic_name).redeliveries_skipped->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_reconnect(std::string_view topic_name) {
  topic(topic_name).reconnects->Increment();
}

void ConnectorMetrics::observe_processing_duration(std::string_view topic_name,
                                                   std::chrono::duration<double> elapsed) {
  topic(topic_name).processing_duration->Observe(elapsed.count());
}

void ConnectorMetrics::observe_batch_size(std::string_view topic_name, std::size_t records) {
  topic(topic_name).batch_size->Observe(static_cast<double>(records));
}

void ConnectorMetrics::observe_ack_latency(std::string_view topic_name,
                                           std::chrono::duration<double> elapsed) {
  topic(topic_name).ack_latency->Observe(elapsed.count());
}

void ConnectorMetrics::observe_publish_latency(std::string_view topic_name,
                                               std::chrono::duration<double> elapsed) {
  topic(topic_name).publish_latency->Observe(elapsed.count());
}

void ConnectorMetrics::observe_end_to_end_latency(std::string_view topic_name,
                                                  std::span<const double> seconds) {
  auto& histogram = *topic(topic_name).end_to_end_latency;
  for (const double value : seconds)
    histogram.Observe(value);
}

void ConnectorMetrics::set_inflight(std::string_view topic_name, std::int64_t messages) {
  topic(topic_name).inflight->Set(static_cast<double>(messages));
}

void ConnectorMetrics::add_inflight(std::string_view topic_name, std::int64_t delta) {
  topic(topic_name).inflight->Increment(static_cast<double>(delta));
}

ConnectorMetrics::BufferHandles& ConnectorMetrics::buffer(std::string_view topic_name) {
  auto& handles = topic(topic_name);
  std::lock_guard lock(topics_->mutex);
  if (!handles.buffer) {
    const prometheus::Labels labels{{"connector", connector_}, {"topic", std::string(topic_name)}};
    auto& families = *families_;
    handles.buffer = std::make_unique<BufferHandles>(BufferHandles{
        &families.buffer_messages.Add(labels),
        &families.buffer_bytes.Add(labels),
        &families.buffer_appended.Add(labels),
        &families.buffer_replayed.Add(labels),
        &families.buffer_sync.Add(labels, MetricBuckets::latency_seconds()),
    });
  }
  return *handles.buffer;
}

void ConnectorMetrics::add_buffered(std::string_view topic_name, std::int64_t messages,
                                    std::int64_t bytes) {
  auto& handles = buffer(topic_name);
  handles.messages->Increment(static_cast<double>(messages));
  handles.bytes->Increment(static_cast<double>(bytes));
}

void ConnectorMetrics::record_buffer_appended(std::string_view topic_name, std::uint64_t count) {
  buffer(topic_name).appended->Increment(static_cast<double>(count));
}

void ConnectorMetrics::record_buffer_replayed(std::string_view topic_name, std::uint64_t count) {
  buffer(topic_name).replayed->Increment(static_cast<double>(count));
}

void ConnectorMetrics::observe_buffer_sync(std::string_view topic_name,
                                           std::chrono::duration<double> elapsed) {
  buffer(topic_name).sync->Observe(elapsed.count());
}

void ConnectorMetrics::record_schema_cache_hit() {
  families_->schema_cache.Add({{"connector", connector_}, {"result", "hit"}}).Increment();
}

void ConnectorMetrics::record_schema_cache_miss() {
  families_->schema_cache.Add({{"connector", connector_}, {"result", "miss"}}).Increment();
}

void ConnectorMetrics::set_health(HealthStatus status) {
  const double value = status == HealthStatus::healthy    ? 1.0
                       : status == HealthStatus::degraded ? 0.5
                                                          : 0.0;
  families_->health.Add({{"connector", connector_}}).Set(value);
}

void ConnectorMetrics::set_health(bool healthy) {
  families_->health.Add({{"connector", connector_}}).Set(healthy ? 1.0 : 0.0);
}

std::vector<ConnectorMetrics::TopicTotals> ConnectorMetrics::topic_totals() const {
  const auto count = [](const prometheus::Counter* counter) {
    return counter ? static_cast<std::uint64_t>(counter->Value()) : 0;
  };
  const auto sum = [&](const auto& counters) {
    std::uint64_t total = 0;
    for (const auto* counter : counters)
      total += count(counter);
    return total;
  };
  std::vector<TopicTotals> totals;
  std::lock_guard lock(topics_->mutex);
  for (const auto& [name, handles] : topics_->topics) {
    TopicTotals topic;
    topic.topic = name;
    topic.received = count(handles->received);
    topic.processed = count(handles->processed);
    topic.acked = count(handles->acked);
    topic.failed = sum(handles->failed);
    topic.retried = count(handles->retried);
    topic.dead_lettered = sum(handles->dead_lettered);
    topic.lost = count(handles->lost);
    topic.redeliveries_skipped = count(handles->redeliveries_skipped);
    topic.inflight = static_cast<std::int64_t>(handles->inflight->Value());
    totals.push_back(std::move(topic));
  }
  return totals;
}

std::string render_metrics(const prometheus::Registry& registry) {
  return prometheus::TextSerializer().Serialize(registry.Collect());
}

}  // namespace danube::services
