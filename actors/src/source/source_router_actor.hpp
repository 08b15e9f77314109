#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <map>
#include <memory>
#include <stop_token>
#include <vector>

#include "../common/runtime_context.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/services/envelope_channel.hpp"
#include "danube/services/schema_registrar.hpp"

namespace danube::runtime {

struct SourceRouterConfig {
  ContextPtr context;
  std::vector<connect::ProducerConfig> producers;           // the first is the default topic
  std::map<std::string, services::ProducerSchema> schemas;  // by topic
  std::shared_ptr<services::EnvelopeChannel> channel;       // streaming sources
  caf::actor driver;
  caf::actor offset_tracker;
  caf::actor broker_io;
  caf::actor dead_letter_router;
  caf::actor supervisor;
  std::uint64_t incarnation = 0;  // stamped on the failures it and its producers report
  std::stop_token stop;           // ends its producers' creations when the pipeline ends
};

// Routes each source record to the producer actor of its topic, spawning producers on first
// use; numbers the records for the offset tracker; keeps at most what the publish rate drains
// in a third of the shutdown budget, and never more than [delivery] max_inflight_records, in
// the pipeline (PublishPacer; streaming: it drains the channel only as far as that allows, so
// the connector's sender blocks — its backpressure; polling: each Credit carries the limit). A
// record naming a topic that producer_configs() did not list is invalid data for the [dead_letter]
// policy.
//
//   Envelopes        from a polling driver
//   readable_atom    the streaming channel has envelopes
//   ItemsSettled     from producer actors and the dead-letter router
//   (stop_atom)      -> idle_atom once nothing is in flight and the channel is drained
//   (close_atom, deadline) -> done once every producer's client is closed (on broker I/O),
//                    flushing until `deadline`
caf::actor spawn_source_router(caf::actor_system& system, SourceRouterConfig config);

}  // namespace danube::runtime
