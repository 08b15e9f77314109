#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <optional>
#include <stop_token>

#include "../common/runtime_context.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/services/schema_registrar.hpp"

namespace danube::runtime {

struct ProducerActorConfig {
  ContextPtr context;
  connect::ProducerConfig config;
  std::optional<services::ProducerSchema> schema;  // encodes payloads when the topic has one
  caf::actor router;                               // gets ItemsSettled
  caf::actor broker_io;                            // creates the client producer
  caf::actor dead_letter_router;
  caf::actor supervisor;          // told about fatal failures
  std::uint64_t incarnation = 0;  // stamped on them
  std::stop_token stop;           // ends a producer creation when the pipeline ends
};

// Publishes the records of one topic with the client's pipelined producer (keys pick
// partitions). A failed publish is retried with the [retry] backoff; after that, or for a
// failure no retry can fix, the [dead_letter] policy decides: publish it to the dead-letter
// topic, skip it (counted), or fail the connector. A record is never dropped silently.
//
//   SourceBatch     records to publish
//   (close_atom)    -> CloseRequest with the client producer, to be closed elsewhere
caf::actor spawn_producer_actor(caf::actor_system& system, ProducerActorConfig config);

}  // namespace danube::runtime
