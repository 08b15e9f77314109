#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "runtime_context.hpp"

namespace danube::runtime {

// A detached actor (a thread of its own) for the client calls that block: subscribing,
// creating producers, closing them. Everything else in the runtime stays non-blocking.
//
// Handles SubscribeRequest -> SubscribeResult (waits for a missing topic within the [retry]
// budget, since sinks often start before the source that creates the topic),
// CreateProducerRequest -> CreateProducerResult, and CloseRequest.
caf::actor spawn_broker_io(caf::actor_system& system, ContextPtr context);

}  // namespace danube::runtime
