#include "release_guard.hpp"

#include <spdlog/spdlog.h>

namespace danube::client::detail {
namespace {

// Depth, so nested restrictions (a completion handler that runs another's code) unwind right.
thread_local int restriction_depth = 0;

}  // namespace

ReleaseRestriction::ReleaseRestriction() {
  ++restriction_depth;
}

ReleaseRestriction::~ReleaseRestriction() {
  --restriction_depth;
}

bool release_restricted() {
  return restriction_depth > 0;
}

void release_where_safe(std::shared_ptr<void> object, Scheduler& control, const Scheduler& timers,
                        std::shared_ptr<std::promise<void>> destroyed) {
  if (!release_restricted() && !timers.on_scheduler_thread()) {
    object.reset();
    destroyed->set_value();
    return;
  }
  control.post([object = std::move(object), destroyed = std::move(destroyed)]() mutable {
    object.reset();
    destroyed->set_value();
  });
}

bool may_wait_for_release(const Scheduler& control, const Scheduler& timers) {
  return !release_restricted() && !control.on_scheduler_thread() && !timers.on_scheduler_thread();
}

void wait_for_release(const std::shared_future<void>& finished, std::chrono::milliseconds limit) {
  if (!finished.valid()) return;
  if (finished.wait_for(limit) != std::future_status::ready) {
    spdlog::warn("component=danube_client event=release_wait_timeout limit_ms={}", limit.count());
  }
}

}  // namespace danube::client::detail
