#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "danube/client/client.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/connector_context.hpp"
#include "danube/runtime/runtime_status.hpp"
#include "danube/services/health_state.hpp"
#include "danube/services/metrics.hpp"
#include "danube/services/schema_registry.hpp"

namespace danube::runtime {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

// Counters every actor of one runtime updates; the supervisor reads them for status replies.
struct RuntimeCounters {
  std::atomic<std::uint64_t> received{0};
  std::atomic<std::uint64_t> processed{0};
  std::atomic<std::uint64_t> failed{0};
  std::atomic<std::uint64_t> retried{0};
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> skipped{0};
  std::atomic<std::uint64_t> acked{0};
  std::atomic<std::uint64_t> committed{0};
  std::atomic<std::uint64_t> lost{0};
  std::atomic<std::uint64_t> redeliveries_skipped{0};

  void add(std::atomic<std::uint64_t>& counter, std::uint64_t count = 1) {
    counter.fetch_add(count, std::memory_order_relaxed);
  }
  // While intake is paused: `count` messages wait to be taken at `where` (a sink's partition
  // topic, a streaming source's channel), on behalf of logical topic `topic` (empty: none in
  // particular). 0 when nothing waits or intake runs.
  void set_held(const std::string& where, const std::string& topic, std::uint64_t count);
  // The counters, and what is held in total and per logical topic.
  void fill(RuntimeStatus& status) const;
  std::map<std::string, std::uint64_t> held_by_topic() const;

 private:
  mutable std::mutex held_mutex_;
  std::map<std::string, std::pair<std::string, std::uint64_t>> held_;  // by `where`
};

// What every actor of one runtime shares. Immutable after creation except for the objects
// that are thread-safe themselves (client, metrics, health, counters, registry).
struct RuntimeContext {
  connect::ConnectorConfig config;
  client::DanubeClient client;
  std::shared_ptr<services::ConnectorMetrics> metrics;
  std::shared_ptr<services::HealthState> health;
  std::shared_ptr<services::SchemaRegistryClient> schema_registry;
  std::shared_ptr<RuntimeCounters> counters = std::make_shared<RuntimeCounters>();
  // What initialize() hands the connector besides the config: its logger and its own metrics.
  std::shared_ptr<connect::Logger> connector_logger = nullptr;
  std::shared_ptr<connect::Metrics> connector_metrics = nullptr;
};

using ContextPtr = std::shared_ptr<const RuntimeContext>;

// The context for one initialize() call; it shares the config, logger and metrics with
// `context`, so what the connector keeps of it stays valid while the runtime lives.
connect::ConnectorContext connector_context(const ContextPtr& context,
                                            std::vector<connect::Offset> resume_offsets = {});

}  // namespace danube::runtime
