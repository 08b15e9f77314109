#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <stop_token>

#include "runtime_context.hpp"

namespace danube::runtime {

struct DeadLetterRouterConfig {
  ContextPtr context;
  caf::actor broker_io;  // creates the dead-letter producer on first use
  std::stop_token stop;  // ends a producer creation that waits for the broker when the runtime ends
};

// Publishes failed records to the dead-letter topic ([dead_letter] topic) and, once the broker
// has them, sends each item's on_published message to its notify actor (the sink acks the
// original only then). Publishing is retried with the [retry] backoff until it succeeds: a
// dead letter is never dropped, and its record keeps its credit (backpressure) meanwhile.
//
//   DeadLetterRequest
caf::actor spawn_dead_letter_router(caf::actor_system& system, DeadLetterRouterConfig config);

}  // namespace danube::runtime
