#pragma once

#include <span>
#include <vector>

#include "danube/connect/batch_result.hpp"
#include "danube/connect/connector_context.hpp"
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/sink_record.hpp"

namespace danube::connect {

// A connector that moves messages from Danube into an external system.
//
// The runtime calls, in order: initialize(), consumer_configs() (once), then process_batch()
// repeatedly on a worker thread (never concurrently with itself or with health_check), and
// shutdown() once at the end. health_check() runs every processing.health_check_interval_ms.
//
// Failures: throw ConnectorError from any method to fail the whole call (retryable calls are
// retried with backoff; any other exception type counts as fatal). In process_batch, report
// per-record failures in the BatchResult instead, so one bad record is dead-lettered alone.
class SinkConnector {
 public:
  virtual ~SinkConnector() = default;

  // Reads the connector's own section (context.config().section("...")) and connects to the
  // external system. Keep a copy of `context` to log or count later.
  virtual void initialize(const ConnectorContext& context) = 0;

  // The topics to consume; at least one. Called once after initialize().
  virtual std::vector<ConsumerConfig> consumer_configs() = 0;

  // Writes `records` (possibly from several topics; group by record.topic() if needed) and
  // reports one outcome per record, in order. Records reported ok are acked. A record failed
  // with a retryable error is retried (alone or with other failed ones); invalid_data and
  // exhausted retries follow `[dead_letter] policy`; fatal stops the connector. Throwing
  // fails every record of the batch with the thrown error. May block.
  virtual BatchResult process_batch(std::span<const SinkRecord> records) = 0;

  // Flushes and releases external resources. Called once, also after a failure.
  virtual void shutdown() {}

  // Throws ConnectorError when the external system is unreachable. After
  // processing.health_check_failure_threshold consecutive failures the connector is failed.
  virtual void health_check() {}
};

// A SinkConnector written one record at a time: process_batch calls process() for each record
// and turns each thrown ConnectorError into that record's outcome (a non-ConnectorError
// exception still fails the whole batch as fatal). After a retryable failure, the later records
// of the same partition are deferred (not processed), so order per partition survives retries.
class RecordSinkConnector : public SinkConnector {
 public:
  virtual void process(const SinkRecord& record) = 0;

  BatchResult process_batch(std::span<const SinkRecord> records) final;
};

}  // namespace danube::connect
