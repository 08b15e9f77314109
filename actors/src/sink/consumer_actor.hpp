#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <memory>
#include <optional>
#include <string>

#include "../common/runtime_context.hpp"
#include "danube/connect/consumer_config.hpp"
#include "sink_buffer.hpp"

namespace danube::client {
class Consumer;
}

namespace danube::runtime {

struct ConsumerActorConfig {
  ContextPtr context;
  std::shared_ptr<client::Consumer> consumer;  // subscribed to exactly one partition topic
  connect::ConsumerConfig subscription;
  std::string partition_topic;
  std::size_t source = 0;  // this subscription's ordering key
  // Credit: records (and their bytes) this actor may have in the pipeline at once; taken
  // when a record leaves for the batcher, returned when it is acked.
  std::size_t max_records = 1000;
  std::size_t max_bytes = 16 << 20;
  std::size_t batch_size = 1000;  // the most records per message to the batcher
  caf::actor batcher;
  caf::actor broker_io;  // closes the client consumer when this actor ends
  // Continuity tracking (Exclusive subscriptions): offsets the broker skipped are reported, and
  // redeliveries of what was processed before are acked without processing.
  bool track_continuity = false;
  caf::actor supervisor;          // told when delivery.on_gap = "fail" and a gap appears, or the
                                  // sink buffer fails
  std::uint64_t incarnation = 0;  // stamped on that failure
  // [sink_buffer] enabled: messages are buffered and acked at once, and the connector is fed
  // from the buffer.
  std::optional<SinkBuffer::Options> buffer;
};

// One partition subscription of a sink. It pulls records from the client's flow-controlled
// buffer only while it has credit, so a slow connector slows the broker down instead of growing
// a mailbox; it acks records once they are done (AckRecords) and returns their credit.
// With a sink buffer it pulls while the buffer has room instead, acks each group of records
// once the buffer has fsynced it, and hands records from the buffer to the batcher under the
// same credit; done records are marked done in the buffer.
//
//   pull_atom       pull what credit allows (sent by the client's ready callback)
//   AckRecords      ack these records and release their credit
//   (stop_atom)     stop intake; answers idle_atom once nothing it handed out is in flight
//   (close_atom)    answers a CloseRequest with the client consumer, to be closed elsewhere
caf::actor spawn_consumer_actor(caf::actor_system& system, ConsumerActorConfig config);

}  // namespace danube::runtime
