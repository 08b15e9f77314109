#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <memory>
#include <optional>
#include <string>

#include "../common/broker_io_actor.hpp"
#include "../common/connector_failure.hpp"
#include "../common/intake_pause.hpp"
#include "../common/runtime_atoms.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/consumer_config.hpp"
#include "dispatcher_actor.hpp"
#include "inflight_record.hpp"
#include "sink_buffer.hpp"

namespace danube::client {
class Consumer;
}

namespace danube::runtime {

namespace consumer_detail {
struct GapSweep;  // time to look at offsets jumped over again
struct AckTick;   // time to count the acks the broker answered meanwhile
// Acks the broker confirmed (or refused) are waiting in the actor's completion queue.
using acks_done_atom = caf::atom_constant<caf::atom("acksdone")>;
}  // namespace consumer_detail

// One partition subscription of a sink. It pulls records from the client's flow-controlled
// buffer only while it has credit, so a slow connector slows the broker down instead of growing
// a mailbox; it acks records once they are done (AckRecords) and returns their credit.
// With a sink buffer it pulls while the buffer has room instead, acks each group of records
// once the buffer has fsynced it, and hands records from the buffer to the dispatcher under
// the same credit; done records are marked done in the buffer.
//
//   AckRecords     ack these records and release their credit
//   pull_atom      pull what credit allows (sent by the client's ready callback)
//   stop_atom      stop intake; answers idle_atom once nothing it handed out is in flight
//   IntakePause    pause: take nothing more from the client (its buffer fills, then the
//                  broker's window, and the broker stops sending) while what was handed out
//                  finishes and is acked; resume: take again
//   close_atom     -> CloseRequest with the client consumer, to be closed elsewhere
//   (self) flush_atom (acks wait for the offsets file), GapSweep, AckTick, acks_done_atom
//          (while a drain waits for acks), held_tick_atom (while paused)
using consumer_actor = record_owner_actor::extend<
    caf::reacts_to<pull_atom>, caf::reacts_to<IntakePause>,
    caf::replies_to<stop_atom>::with<idle_atom>, caf::replies_to<close_atom>::with<CloseRequest>,
    caf::reacts_to<flush_atom>, caf::reacts_to<consumer_detail::GapSweep>,
    caf::reacts_to<consumer_detail::AckTick>, caf::reacts_to<consumer_detail::acks_done_atom>,
    caf::reacts_to<held_tick_atom, std::uint64_t>>;

struct ConsumerActorConfig {
  ContextPtr context;
  std::shared_ptr<client::Consumer> consumer;  // subscribed to exactly one partition topic
  connect::ConsumerConfig subscription;
  std::string partition_topic;
  std::size_t source = 0;  // this subscription's ordering key
  // Credit: records (and their bytes) this actor may have in the pipeline at once; taken
  // when a record leaves for the dispatcher, returned when it is acked.
  std::size_t max_records = 1000;
  std::size_t max_bytes = 16 << 20;
  std::size_t batch_size = 1000;  // the most records per message to the dispatcher
  dispatcher_actor dispatcher;
  broker_io_actor broker_io;  // closes the client consumer when this actor ends
  // Continuity tracking (Exclusive subscriptions): offsets the broker skipped are reported, and
  // redeliveries of what was processed before are acked without processing.
  bool track_continuity = false;
  failure_listener_actor supervisor;  // told when delivery.on_gap = "fail" and a gap appears,
                                      // or the sink buffer fails
  std::uint64_t incarnation = 0;      // stamped on that failure
  bool paused = false;                // start with intake paused (IntakePause)
  // [sink_buffer] enabled: messages are buffered and acked at once, and the connector is fed
  // from the buffer.
  std::optional<SinkBuffer::Options> buffer;
};

consumer_actor spawn_consumer_actor(caf::actor_system& system, ConsumerActorConfig config);

}  // namespace danube::runtime
