#include "runtime_context.hpp"

#include "danube/services/custom_metrics.hpp"
#include "danube/services/logging.hpp"

namespace danube::runtime {

void RuntimeCounters::fill(RuntimeStatus& status) const {
  status.received = received.load(std::memory_order_relaxed);
  status.processed = processed.load(std::memory_order_relaxed);
  status.failed = failed.load(std::memory_order_relaxed);
  status.retried = retried.load(std::memory_order_relaxed);
  status.dead_lettered = dead_lettered.load(std::memory_order_relaxed);
  status.skipped = skipped.load(std::memory_order_relaxed);
  status.acked = acked.load(std::memory_order_relaxed);
  status.committed = committed.load(std::memory_order_relaxed);
  status.lost = lost.load(std::memory_order_relaxed);
  status.redeliveries_skipped = redeliveries_skipped.load(std::memory_order_relaxed);
}

connect::ConnectorContext connector_context(const ContextPtr& context,
                                            std::vector<connect::Offset> resume_offsets) {
  // A context assembled by hand (tests of single actors) may lack the two; give it working ones.
  auto logger = context->connector_logger ? context->connector_logger
                                          : std::make_shared<services::ConnectorLogger>();
  auto metrics = context->connector_metrics
                     ? context->connector_metrics
                     : std::make_shared<services::CustomMetrics>(context->metrics->registry(),
                                                                 context->config.connector_name);
  return connect::ConnectorContext(
      std::shared_ptr<const connect::ConnectorConfig>(context, &context->config),
      std::move(resume_offsets), std::move(logger), std::move(metrics));
}

}  // namespace danube::runtime
