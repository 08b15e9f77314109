#include "runtime_context.hpp"

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
  // make_context (embedding.cpp) gives every runtime its connector logger and metrics.
  return connect::ConnectorContext(
      std::shared_ptr<const connect::ConnectorConfig>(context, &context->config),
      std::move(resume_offsets), context->connector_logger, context->connector_metrics);
}

}  // namespace danube::runtime
