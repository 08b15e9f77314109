#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <optional>
#include <stop_token>
#include <vector>

#include "../common/broker_io_actor.hpp"
#include "../common/connector_failure.hpp"
#include "../common/dead_letter_router_actor.hpp"
#include "../common/runtime_atoms.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/services/schema_registrar.hpp"
#include "source_item.hpp"

namespace danube::runtime {

// router -> producer: records to publish.
struct SourceBatch {
  std::vector<SourceItem> items;
};

namespace producer_detail {
struct ResendDue;  // a failed send's backoff has elapsed
// Time to settle the sends the broker answered meanwhile (every millisecond while any are out).
using sends_done_atom = caf::atom_constant<caf::atom("sendsdone")>;
using create_atom = caf::atom_constant<caf::atom("create")>;
}  // namespace producer_detail

// Publishes the records of one topic with the client's pipelined producer (keys pick
// partitions). A failed publish is retried with the [retry] backoff; after that, or for a
// failure no retry can fix, the [dead_letter] policy decides: publish it to the dead-letter
// topic, skip it (counted), or fail the connector. A record is never dropped silently.
//
//   SourceBatch     records to publish; each is settled (ItemsSettled to the router) once the
//                   broker has it, it is dead-lettered, or skipped
//   close_atom      -> CloseRequest with the client producer, to be closed elsewhere
//   (self) sends_done_atom, ResendDue, create_atom
using producer_actor =
    caf::typed_actor<caf::reacts_to<SourceBatch>, caf::replies_to<close_atom>::with<CloseRequest>,
                     caf::reacts_to<producer_detail::sends_done_atom>,
                     caf::reacts_to<producer_detail::ResendDue>,
                     caf::reacts_to<producer_detail::create_atom>>;

struct ProducerActorConfig {
  ContextPtr context;
  connect::ProducerConfig config;
  std::optional<services::ProducerSchema> schema;  // encodes payloads when the topic has one
  settlement_listener_actor router;
  broker_io_actor broker_io;  // creates the client producer
  dead_letter_sink_actor dead_letter_router;
  failure_listener_actor supervisor;  // told about fatal failures
  std::uint64_t incarnation = 0;      // stamped on them
  std::stop_token stop;               // ends a producer creation when the pipeline ends
};

producer_actor spawn_producer_actor(caf::actor_system& system, ProducerActorConfig config);

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SourceBatch)
