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
  std::lock_guard lock(held_mutex_);
  status.held = 0;
  for (const auto& [where, held] : held_)
    status.held += held.second;
}

void RuntimeCounters::set_held(const std::string& where, const std::string& topic,
                               std::uint64_t count) {
  std::lock_guard lock(held_mutex_);
  if (count == 0) {
    held_.erase(where);
  } else {
    held_[where] = {topic, count};
  }
}

std::map<std::string, std::uint64_t> RuntimeCounters::held_by_topic() const {
  std::lock_guard lock(held_mutex_);
  std::map<std::string, std::uint64_t> by_topic;
  for (const auto& [where, held] : held_) {
    if (!held.first.empty()) by_topic[held.first] += held.second;
  }
  return by_topic;
}

connect::ConnectorContext connector_context(const ContextPtr& context,
                                            std::vector<connect::Offset> resume_offsets) {
  // make_context (embedding.cpp) gives every runtime its connector logger and metrics.
  return connect::ConnectorContext(
      std::shared_ptr<const connect::ConnectorConfig>(context, &context->config),
      std::move(resume_offsets), context->connector_logger, context->connector_metrics);
}

}  // namespace danube::runtime
