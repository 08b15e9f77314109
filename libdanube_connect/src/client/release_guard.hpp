#pragma once

#include <chrono>
#include <future>
#include <memory>

#include "scheduler.hpp"

namespace danube::client::detail {

// gRPC 1.51 runs callback-API completions on the threads of one process-wide completion queue
// (its CallbackAlternativeCQ). When the last grpc::Channel or grpc::Server of the process is
// released on one of those threads, gRPC shuts that queue down and deletes it while the same
// thread still polls it: an abort in grpc_cq_internal_unref. The client's stream thread that
// released a consumer would wait for that consumer's streams, which only it can finish. So a thread that runs our completion
// handlers or reads a stream marks itself with a ReleaseRestriction, and whatever owns channels
// (client, consumer and producer cores) and loses its last owner there is destroyed on a thread
// of ours instead (release_where_safe).
class ReleaseRestriction {
 public:
  ReleaseRestriction();
  ~ReleaseRestriction();
  ReleaseRestriction(const ReleaseRestriction&) = delete;
  ReleaseRestriction& operator=(const ReleaseRestriction&) = delete;
};

// Whether the calling thread runs under a ReleaseRestriction.
bool release_restricted();

// Destroys `object` now, or, when the calling thread is restricted or is the `timers` thread
// (whose tasks must not block, and a core's destructor waits for its calls), as a task on
// `control`. `control` must outlive the task: pass a scheduler the object keeps alive.
// `destroyed` is fulfilled once the object (and whatever it released in turn) is gone.
void release_where_safe(std::shared_ptr<void> object, Scheduler& control, const Scheduler& timers,
                        std::shared_ptr<std::promise<void>> destroyed);

// A shared_ptr deleter for the client's cores: hands the object to release_where_safe with
// the schedulers of the ClientCore it uses, and tells whoever watches (see
// release_and_wait) when the destruction has finished.
template <class Core>
struct CoreDeleter {
  std::shared_ptr<std::promise<void>> destroyed = std::make_shared<std::promise<void>>();
  std::shared_future<void> finished = destroyed->get_future().share();

  void operator()(Core* core) const {
    std::shared_ptr<Core> owned(core);  // the last owner from here on, whatever thread this is
    Scheduler& control = owned->owning_client().control();
    const Scheduler& timers = owned->owning_client().timers();
    release_where_safe(std::move(owned), control, timers, destroyed);
  }
};

// Whether the calling thread may wait for a core's deferred destruction: not a restricted
// thread, and neither of the client's own schedulers (which would run that destruction).
bool may_wait_for_release(const Scheduler& control, const Scheduler& timers);

// Waits for `finished` at most `limit`; logs when the limit passes.
void wait_for_release(const std::shared_future<void>& finished, std::chrono::milliseconds limit);

// Drops the caller's reference to `core`. When an in-flight call still holds one, the core is
// destroyed later on the client's control thread, possibly taking the ClientCore with it; a
// handle's destructor waits (at most `limit`) for that, so once the last public handle is
// gone nothing of the client runs any more, not even after main returns.
template <class Core>
void release_and_wait(std::shared_ptr<Core>& core, std::chrono::milliseconds limit) {
  if (!core) return;
  const auto* deleter = std::get_deleter<CoreDeleter<Core>>(core);
  const bool may_wait = deleter != nullptr && may_wait_for_release(core->owning_client().control(),
                                                                   core->owning_client().timers());
  std::shared_future<void> finished =
      deleter != nullptr ? deleter->finished : std::shared_future<void>{};
  core.reset();
  if (may_wait) wait_for_release(finished, limit);
}

}  // namespace danube::client::detail
