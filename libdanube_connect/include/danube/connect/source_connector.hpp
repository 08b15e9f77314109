#pragma once

#include <string_view>
#include <vector>

#include "danube/connect/connector_context.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/offset.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/connect/source_record.hpp"
#include "danube/connect/source_sender.hpp"

namespace danube::connect {

enum class SourceMode {
  polling,    // the runtime calls poll() in a loop
  streaming,  // the connector pushes records through a SourceSender
};

std::string_view to_string(SourceMode mode);

// A connector that moves data from an external system into Danube.
//
// The runtime calls: initialize(context), producer_configs() (once), mode(),
// then either poll() in a loop (on a worker thread; it may block, and an empty result makes
// the runtime wait processing.poll_interval_ms) or start_streaming() once; commit() with the
// offsets of records the broker has accepted; shutdown() once at the end.
//
// Failures: throw ConnectorError to fail a call; retryable ones are retried with backoff,
// fatal ones stop the connector; any other exception type counts as fatal.
class SourceConnector {
 public:
  virtual ~SourceConnector() = default;

  // context.resume_offsets(): the offsets last committed before a restart (empty on the first
  // start). Keep a copy of `context` to log or count later.
  virtual void initialize(const ConnectorContext& context) = 0;

  // The topics this source publishes to; at least one. A record with an empty topic goes to
  // the first; a record naming a topic not listed here is invalid_data.
  virtual std::vector<ProducerConfig> producer_configs() = 0;

  virtual SourceMode mode() const { return SourceMode::polling; }

  // Polling sources: the next records (empty when there is nothing right now).
  virtual std::vector<SourceEnvelope> poll();

  // Streaming sources: emit records through `sender` from any thread(s). The method may
  // return at once (after starting the connector's own threads) or run the receive loop
  // itself; either way the source must stop sending once sender.send() returns false
  // (the runtime closed the channel) and stop its threads in shutdown().
  virtual void start_streaming(SourceSender sender);

  // Offsets of records the broker has accepted, in publish order (the runtime may pass only
  // the last one per partition). The runtime also persists them for the next initialize().
  virtual void commit(const std::vector<Offset>& offsets) { (void)offsets; }

  virtual void shutdown() {}
  virtual void health_check() {}
};

}  // namespace danube::connect
