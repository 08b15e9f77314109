#include "release_guard.hpp"

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

void release_where_safe(std::shared_ptr<void> object, Scheduler& control, const Scheduler& timers) {
  if (!release_restricted() && !timers.on_scheduler_thread()) return;  // released right here
  control.post([object = std::move(object)]() mutable { object.reset(); });
}

}  // namespace danube::client::detail
