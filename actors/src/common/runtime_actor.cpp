#include "runtime_actor.hpp"

#if defined(DANUBE_RUNTIME_TSAN_ANNOTATIONS)

#include <sanitizer/tsan_interface.h>

namespace danube::runtime {

// The actor object's address is the synchronisation point: the spawner and senders release it; the
// actor acquires it before its own code runs and releases it after, so that the next run, possibly
// on another worker thread, sees what this one did even when CAF rescheduled the actor before
// resume() returned.

void RuntimeActor::launch(caf::execution_unit* unit, bool lazy, bool hide) {
  __tsan_release(this);
  caf::event_based_actor::launch(unit, lazy, hide);
}

void RuntimeActor::initialize() {
  __tsan_acquire(this);
  caf::event_based_actor::initialize();
  __tsan_release(this);
}

void RuntimeActor::enqueue(caf::mailbox_element_ptr element, caf::execution_unit* unit) {
  __tsan_release(this);
  caf::event_based_actor::enqueue(std::move(element), unit);
}

caf::resumable::resume_result RuntimeActor::resume(caf::execution_unit* unit,
                                                   size_t max_throughput) {
  __tsan_acquire(this);
  auto result = caf::event_based_actor::resume(unit, max_throughput);
  __tsan_release(this);
  return result;
}

caf::invoke_message_result RuntimeActor::consume(caf::mailbox_element& element) {
  __tsan_acquire(this);
  auto result = caf::event_based_actor::consume(element);
  __tsan_release(this);
  return result;
}

// CAF calls on_destroy() once the last strong reference is gone (an uninstrumented atomic) and
// then runs the destructors, which rewrite the vtable pointer that every sender read to call
// enqueue(); the release in enqueue() pairs with this acquire.
void RuntimeActor::on_destroy() {
  __tsan_acquire(this);
  caf::event_based_actor::on_destroy();
}

}  // namespace danube::runtime

#endif
