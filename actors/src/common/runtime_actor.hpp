#pragma once

// The actor types every runtime actor is spawned as, and a weak typed reference for callbacks
// that run on client threads.
//
// Debian's CAF is not built with ThreadSanitizer, so the hand-over of a message from one
// actor's thread to another (a lock-free mailbox inside libcaf_core) is invisible to TSan and
// every message would look like a data race. In TSan builds Annotated<Base> tells TSan about the
// edges CAF guarantees: what the spawner did before spawning happens before the actor starts;
// what a sender did before enqueueing a message happens before the receiver handles it; what an
// actor did while handling a message happens before it handles the next one, on any thread;
// every enqueue (and the virtual call that reaches it) happens before the actor is destroyed.
// In every other build Annotated<Base> is Base.
//
// The actor object's address is the synchronisation point: the spawner and senders release it;
// the actor acquires it before its own code runs and releases it after, so that the next run,
// possibly on another worker thread, sees what this one did even when CAF rescheduled the actor
// before resume() returned.

#include <caf/all.hpp>
#include <utility>

#if defined(__SANITIZE_THREAD__)
#define DANUBE_RUNTIME_TSAN_ANNOTATIONS 1
#include <sanitizer/tsan_interface.h>
#endif

namespace danube::runtime {

#if defined(DANUBE_RUNTIME_TSAN_ANNOTATIONS)

template <class Base>
class Annotated : public Base {
 public:
  using Base::Base;

  void launch(caf::execution_unit* unit, bool lazy, bool hide) override {
    __tsan_release(this);
    Base::launch(unit, lazy, hide);
  }
  void initialize() override {
    __tsan_acquire(this);
    Base::initialize();
    __tsan_release(this);
  }
  void enqueue(caf::mailbox_element_ptr element, caf::execution_unit* unit) override {
    __tsan_release(this);
    Base::enqueue(std::move(element), unit);
  }
  caf::resumable::resume_result resume(caf::execution_unit* unit, size_t max_throughput) override {
    __tsan_acquire(this);
    auto result = Base::resume(unit, max_throughput);
    __tsan_release(this);
    return result;
  }
  caf::invoke_message_result consume(caf::mailbox_element& element) override {
    __tsan_acquire(this);
    auto result = Base::consume(element);
    __tsan_release(this);
    return result;
  }
  // CAF calls on_destroy() once the last strong reference is gone (an uninstrumented atomic)
  // and then runs the destructors, which rewrite the vtable pointer that every sender read to
  // call enqueue(); the release in enqueue() pairs with this acquire.
  void on_destroy() override {
    __tsan_acquire(this);
    Base::on_destroy();
  }
};

#else

template <class Base>
using Annotated = Base;

#endif

// A dynamically typed actor; the runtime itself spawns only typed ones (tests use this one for
// stand-ins).
using RuntimeActor = Annotated<caf::event_based_actor>;
template <class State>
using RuntimeStatefulActor = caf::stateful_actor<State, RuntimeActor>;

// The self type of an actor implementing the typed interface `Handle`, without and with state.
template <class Handle>
using TypedActor = Annotated<typename Handle::base>;
template <class Handle, class State>
using TypedStatefulActor = caf::stateful_actor<State, TypedActor<Handle>>;

// A reference to a typed actor that does not keep it alive, for callbacks the broker client
// runs on its own threads (ready signals, ack and send completions): a message to an actor that
// is gone is dropped. Messages are checked against `Handle` at compile time, as caf::anon_send
// checks them.
template <class Handle>
class WeakHandle {
 public:
  WeakHandle() = default;
  template <class Self>
  explicit WeakHandle(Self* self) : control_(self->ctrl()) {
    static_assert(
        caf::detail::tl_subset_of<typename Handle::signatures, typename Self::signatures>::value,
        "the actor does not implement this interface");
  }

  template <class... Ts>
  void send(Ts&&... message) const {
    using token = caf::detail::type_list<caf::detail::strip_and_convert_t<Ts>...>;
    static_assert(caf::response_type_unbox<caf::signatures_of_t<Handle>, token>::valid,
                  "the actor does not accept this message");
    if (auto target = control_.lock()) {
      target->enqueue(nullptr, caf::make_message_id(),
                      caf::make_message(std::forward<Ts>(message)...), nullptr);
    }
  }

 private:
  caf::weak_actor_ptr control_;
};

}  // namespace danube::runtime
