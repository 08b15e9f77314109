#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <map>
#include <memory>
#include <stop_token>
#include <vector>

#include "../common/broker_io_actor.hpp"
#include "../common/connector_failure.hpp"
#include "../common/dead_letter_router_actor.hpp"
#include "../common/intake_pause.hpp"
#include "../common/runtime_atoms.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/services/envelope_channel.hpp"
#include "danube/services/schema_registrar.hpp"
#include "offset_tracker_actor.hpp"
#include "source_driver_actor.hpp"
#include "source_item.hpp"

namespace danube::runtime {

// Routes each source record to the producer actor of its topic, spawning producers on first
// use; numbers the records for the offset tracker; keeps at most what the publish rate drains
// in a third of the shutdown budget, and never more than [delivery] max_inflight_records, in
// the pipeline (PublishPacer; streaming: it drains the channel only as far as that allows, so
// the connector's sender blocks — its backpressure; polling: each Credit carries the limit). A
// record naming a topic that producer_configs() did not list is invalid data for the
// [dead_letter] policy.
//
//   Envelopes                    from a polling driver
//   readable_atom                the streaming channel has envelopes
//   ItemsSettled                 from producer actors and the dead-letter router; passed on to
//                                the offset tracker, and as Credit to a polling driver
//   IntakePause                  paused: the streaming channel is not read (the connector's
//                                sender blocks once it is full) until resumed or stopped
//   (self) held_tick_atom        while paused: what the channel holds, for the status
//   stop_atom                    -> idle_atom once nothing is in flight and the channel is
//                                drained
//   close_atom, deadline         -> done once every producer's client is closed (on broker
//                                I/O), flushing until `deadline`
using source_router_actor = envelope_listener_actor::extend<
    caf::reacts_to<readable_atom>, caf::reacts_to<ItemsSettled>, caf::reacts_to<IntakePause>,
    caf::reacts_to<held_tick_atom, std::uint64_t>, caf::replies_to<stop_atom>::with<idle_atom>,
    caf::replies_to<close_atom, Clock::time_point>::with<void>>;

// What the router needs of a polling driver: credit for more polls.
using credit_listener_actor = caf::typed_actor<caf::reacts_to<Credit>>;

struct SourceRouterConfig {
  ContextPtr context;
  std::vector<connect::ProducerConfig> producers;           // the first is the default topic
  std::map<std::string, services::ProducerSchema> schemas;  // by topic
  std::shared_ptr<services::EnvelopeChannel> channel;       // streaming sources
  credit_listener_actor driver;
  offset_tracker_actor offset_tracker;
  broker_io_actor broker_io;
  dead_letter_sink_actor dead_letter_router;
  failure_listener_actor supervisor;
  std::uint64_t incarnation = 0;  // stamped on the failures it and its producers report
  std::stop_token stop;           // ends its producers' creations when the pipeline ends
  bool paused = false;            // start with intake paused (IntakePause)
};

source_router_actor spawn_source_router(caf::actor_system& system, SourceRouterConfig config);

}  // namespace danube::runtime
