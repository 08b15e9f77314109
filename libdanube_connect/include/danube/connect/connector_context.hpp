#pragma once

#include <memory>
#include <string>
#include <vector>

#include "danube/connect/config.hpp"
#include "danube/connect/logger.hpp"
#include "danube/connect/metric_handles.hpp"
#include "danube/connect/offset.hpp"

namespace danube::connect {

// What the runtime hands a connector's initialize(): the configuration, the offsets committed
// before the last stop (sources), the connector's name, its logger and its metrics.
//
// Copies are cheap and share everything; keep one when you log or count after initialize().
// The runtime keeps what a context shares alive until after shutdown(). New capabilities
// (pausing, resuming) will be added here as methods, so connectors written today keep
// compiling.
class ConnectorContext {
 public:
  ConnectorContext(std::shared_ptr<const ConnectorConfig> config,
                   std::vector<Offset> resume_offsets, std::shared_ptr<Logger> logger,
                   std::shared_ptr<Metrics> metrics);

  // For a connector's tests and tools: the given config, resume offsets, a logger writing
  // info and above to stderr, and metrics kept in memory (read them back through the handles).
  static ConnectorContext standalone(ConnectorConfig config = {},
                                     std::vector<Offset> resume_offsets = {});

  const ConnectorConfig& config() const { return *config_; }
  const std::string& connector_name() const { return config_->connector_name; }
  // Sources: the offsets last committed, in the order they were committed (empty on the first
  // start). Sinks: always empty (the broker keeps a sink's position).
  const std::vector<Offset>& resume_offsets() const { return *resume_offsets_; }
  Logger& logger() const { return *logger_; }
  Metrics& metrics() const { return *metrics_; }

 private:
  std::shared_ptr<const ConnectorConfig> config_;
  std::shared_ptr<const std::vector<Offset>> resume_offsets_;
  std::shared_ptr<Logger> logger_;
  std::shared_ptr<Metrics> metrics_;
};

}  // namespace danube::connect
