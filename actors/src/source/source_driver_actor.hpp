#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <memory>

#include "../common/connector_activity.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/source_connector.hpp"

namespace danube::runtime {

// The thread that calls into the source connector (a detached actor: connector code may
// block). It loads the committed offsets for initialize(), registers the schemas, and then:
// - polling: calls poll() while it has credit — again at once when records came back, after
//   processing.poll_interval_ms when none did — and sends them to the router;
// - streaming: opens a bounded EnvelopeChannel (the router drains it) and runs
//   start_streaming() on a thread of its own, so commit() can still run here.
// It commits offsets (connector.commit, then the offset store) when the tracker asks.
//
//   (init_atom)            -> SourceInitResult
//   (poll_atom, router, incarnation)  start polling into `router`; failures are stamped with
//                          the pipeline incarnation
//   Credit                 records left the pipeline
//   CommitRequest          -> done
//   (probe_atom)           -> HealthReport
//   (stop_atom)            -> done: no more poll(), the streaming channel closed
//   (shutdown_atom)        -> done: connector.shutdown()
// `activity` is marked busy during every connector call but health_check().
caf::actor spawn_source_driver(caf::actor_system& system,
                               std::shared_ptr<connect::SourceConnector> connector,
                               ContextPtr context, caf::actor supervisor,
                               std::shared_ptr<ConnectorActivity> activity);

}  // namespace danube::runtime
