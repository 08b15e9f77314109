#pragma once

#include <caf/fwd.hpp>
#include <memory>

#include "../common/runtime_context.hpp"
#include "../common/supervisor_actor.hpp"
#include "danube/connect/source_connector.hpp"

namespace danube::runtime {

// The root of a source runtime (spawn_source hands it out as a connector_actor).
//
// Long-lived: the connector's driver, broker I/O, the dead-letter router, the health monitor.
// Per pipeline incarnation: the router (with its producer actors) and the offset tracker.
// A fatal failure tears the pipeline down and, per [supervision], initializes the connector
// again after a backoff — with the offsets committed so far, so it resumes where it was — or
// stops with an error exit reason.
//
// drain_atom: stop polling (close the streaming channel), publish what the source already
// handed over, commit the final offsets, call shutdown() on the connector, close the
// producers, answer the final RuntimeStatus and quit normally.
supervisor_actor spawn_source_supervisor(caf::actor_system& system,
                                         std::shared_ptr<connect::SourceConnector> connector,
                                         ContextPtr context);

}  // namespace danube::runtime
