#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <stop_token>
#include <string>
#include <variant>
#include <vector>

#include "../sink/inflight_record.hpp"
#include "../source/source_item.hpp"
#include "broker_io_actor.hpp"
#include "danube/client/message.hpp"
#include "danube/connect/error_type.hpp"
#include "runtime_atoms.hpp"
#include "runtime_context.hpp"

namespace danube::runtime {

// Once its dead letter is published, a sink record is acked by its owner ...
struct AckWhenDeadLettered {
  InflightRecord record;
};
// ... and a source record is settled by the router.
struct SettleWhenDeadLettered {
  settlement_listener_actor router;
  std::uint64_t sequence = 0;
};

// A message for the dead-letter topic, and who learns when the broker has it.
struct DeadLetterItem {
  client::OutgoingMessage message;
  std::string origin_topic;  // for metrics
  connect::ErrorType error_type = connect::ErrorType::other;
  std::variant<AckWhenDeadLettered, SettleWhenDeadLettered> on_published;
};

struct DeadLetterRequest {
  std::vector<DeadLetterItem> items;
};

// What the pipeline actors hold of the dead-letter router.
using dead_letter_sink_actor = caf::typed_actor<caf::reacts_to<DeadLetterRequest>>;

namespace dead_letter_detail {
struct Published;  // a publish completed (from a client thread)
using create_atom = caf::atom_constant<caf::atom("dlqcreate")>;
using retry_atom = caf::atom_constant<caf::atom("dlqretry")>;
}  // namespace dead_letter_detail

// Publishes failed records to the dead-letter topic ([dead_letter] topic) and, once the broker
// has them, acks the sink record (AckRecords to its owner) or settles the source record
// (ItemsSettled to its router). Publishing is retried with the [retry] backoff until it
// succeeds: a dead letter is never dropped, and its record keeps its credit (backpressure)
// meanwhile.
//
//   DeadLetterRequest   dead letters to publish
//   close_atom          -> CloseRequest with the client producer, to be closed elsewhere
//   (self) Published, create_atom, retry_atom
using dead_letter_router_actor =
    dead_letter_sink_actor::extend<caf::replies_to<close_atom>::with<CloseRequest>,
                                   caf::reacts_to<dead_letter_detail::Published>,
                                   caf::reacts_to<dead_letter_detail::create_atom>,
                                   caf::reacts_to<dead_letter_detail::retry_atom>>;

struct DeadLetterRouterConfig {
  ContextPtr context;
  broker_io_actor broker_io;  // creates the dead-letter producer on first use
  std::stop_token stop;  // ends a producer creation that waits for the broker when the runtime ends
};

dead_letter_router_actor spawn_dead_letter_router(caf::actor_system& system,
                                                  DeadLetterRouterConfig config);

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::DeadLetterRequest)
