#pragma once

#include <caf/fwd.hpp>
#include <memory>

#include "../common/runtime_context.hpp"
#include "../common/supervisor_actor.hpp"
#include "danube/connect/sink_connector.hpp"

namespace danube::runtime {

// The root of a sink runtime (spawn_sink hands it out as a connector_actor).
//
// It owns the long-lived actors (the connector's worker, broker I/O, the dead-letter router,
// the health monitor) and one pipeline incarnation: a dispatcher and a consumer actor per
// partition subscription. A fatal failure (or a crashed child) tears the
// pipeline down — unacked records are redelivered by the broker — and, per [supervision],
// builds it again after a backoff with jitter, or stops with an error exit reason.
//
// drain_atom: stop intake, flush the dispatcher, wait until every record handed out is acked or
// dead-lettered (within [shutdown] timeout_ms), call shutdown() on the connector, close the
// broker connections, answer the final RuntimeStatus and quit normally.
supervisor_actor spawn_sink_supervisor(caf::actor_system& system,
                                       std::shared_ptr<connect::SinkConnector> connector,
                                       ContextPtr context);

}  // namespace danube::runtime
