#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../common/connector_activity.hpp"
#include "../common/connector_failure.hpp"
#include "../common/connector_worker.hpp"
#include "../common/intake_pause.hpp"
#include "../common/runtime_atoms.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/connect/source_connector.hpp"
#include "danube/services/envelope_channel.hpp"
#include "danube/services/schema_registrar.hpp"

namespace danube::runtime {

// What initialize(), producer_configs(), mode() and the schema registration gave.
struct SourceInitResult {
  std::vector<connect::ProducerConfig> configs;
  connect::SourceMode mode = connect::SourceMode::polling;
  std::map<std::string, services::ProducerSchema> schemas;  // by topic
  std::shared_ptr<services::EnvelopeChannel> channel;       // streaming mode
  std::optional<connect::ConnectorError> error;
};

// driver -> router: polled envelopes.
struct Envelopes {
  std::vector<connect::SourceEnvelope> envelopes;
};
// Where polled envelopes go.
using envelope_listener_actor = caf::typed_actor<caf::reacts_to<Envelopes>>;

// router -> driver: this many records left the pipeline (credit for more polls).
struct Credit {
  std::size_t records = 0;
  std::size_t read_ahead_limit = 0;  // how many may be outstanding now (PublishPacer)
};
// offset tracker -> driver: commit these (the newest settled offset per partition).
struct CommitRequest {
  std::vector<connect::Offset> offsets;
};

// The thread that calls into the source connector (a detached actor: connector code may
// block). It loads the committed offsets for initialize(), registers the schemas, and then:
// - polling: calls poll() while it has credit — again at once when records came back, after
//   processing.poll_interval_ms when none did — and sends them to the router;
// - streaming: opens a bounded EnvelopeChannel (the router drains it) and runs
//   start_streaming() on a thread of its own, so commit() can still run here.
// It commits offsets (connector.commit, then the offset store) when the tracker asks.
//
//   init_atom                       -> SourceInitResult
//   poll_atom, router, incarnation  start polling into `router`; failures are stamped with
//                                   the pipeline incarnation
//   Credit                          records left the pipeline
//   IntakePause                     paused: poll() is not called until resumed (a streaming
//                                   source is paused at the router)
//   CommitRequest                   -> done
//   probe_atom                      -> HealthReport
//   stop_atom                       -> done: no more poll(), the streaming channel closed
//   shutdown_atom                   -> done: connector.shutdown()
//   (self) poll_atom
using source_driver_actor = connector_worker_actor::extend<
    caf::replies_to<init_atom>::with<SourceInitResult>,
    caf::reacts_to<poll_atom, envelope_listener_actor, std::uint64_t>, caf::reacts_to<poll_atom>,
    caf::reacts_to<Credit>, caf::reacts_to<IntakePause>, caf::replies_to<CommitRequest>::with<void>,
    caf::replies_to<stop_atom>::with<void>>;

// `activity` is marked busy during every connector call but health_check().
source_driver_actor spawn_source_driver(caf::actor_system& system,
                                        std::shared_ptr<connect::SourceConnector> connector,
                                        ContextPtr context, failure_listener_actor supervisor,
                                        std::shared_ptr<ConnectorActivity> activity);

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SourceInitResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::Envelopes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::Credit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CommitRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<danube::connect::Offset>)
