#pragma once

// The actor type every runtime actor is spawned as.
//
// Debian's CAF is not built with ThreadSanitizer, so the hand-over of a message from one
// actor's thread to another (a lock-free mailbox inside libcaf_core) is invisible to TSan and
// every message would look like a data race. In TSan builds RuntimeActor tells TSan about the
// edges CAF guarantees: what the spawner did before spawning happens before the actor starts;
// what a sender did before enqueueing a message happens before the receiver handles it; what an
// actor did while handling a message happens before it handles the next one, on any thread;
// every enqueue (and the virtual call that reaches it) happens before the actor is destroyed.
// In every other build it is plain caf::event_based_actor.

#include <caf/all.hpp>

#if defined(__SANITIZE_THREAD__)
#define DANUBE_RUNTIME_TSAN_ANNOTATIONS 1
#endif

namespace danube::runtime {

#if defined(DANUBE_RUNTIME_TSAN_ANNOTATIONS)

class RuntimeActor : public caf::event_based_actor {
 public:
  using caf::event_based_actor::event_based_actor;

  void launch(caf::execution_unit* unit, bool lazy, bool hide) override;
  void initialize() override;

  void enqueue(caf::mailbox_element_ptr element, caf::execution_unit* unit) override;
  caf::resumable::resume_result resume(caf::execution_unit* unit, size_t max_throughput) override;
  caf::invoke_message_result consume(caf::mailbox_element& element) override;
  void on_destroy() override;
};

#else

using RuntimeActor = caf::event_based_actor;

#endif

template <class State>
using RuntimeStatefulActor = caf::stateful_actor<State, RuntimeActor>;

}  // namespace danube::runtime
