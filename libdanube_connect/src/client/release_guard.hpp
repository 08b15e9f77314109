#pragma once

#include <memory>

#include "scheduler.hpp"

namespace danube::client::detail {

// gRPC 1.51 runs callback-API completions on the threads of one process-wide completion queue
// (its CallbackAlternativeCQ). When the last grpc::Channel or grpc::Server of the process is
// released on one of those threads, gRPC shuts that queue down and deletes it while the same
// thread still polls it: an abort in grpc_cq_internal_unref. A reader thread that releases the
// consumer it belongs to would have to join itself. So a thread that runs our completion
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
void release_where_safe(std::shared_ptr<void> object, Scheduler& control, const Scheduler& timers);

// A shared_ptr deleter for the client's cores: hands the object to release_where_safe with
// the schedulers of the ClientCore it uses.
template <class Core>
struct CoreDeleter {
  void operator()(Core* core) const {
    std::shared_ptr<Core> owned(core);  // the last owner from here on, whatever thread this is
    Scheduler& control = owned->owning_client().control();
    const Scheduler& timers = owned->owning_client().timers();
    release_where_safe(std::move(owned), control, timers);
  }
};

}  // namespace danube::client::detail
