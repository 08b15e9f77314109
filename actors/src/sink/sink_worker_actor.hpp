#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <memory>

#include "../common/connector_activity.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/sink_connector.hpp"

namespace danube::runtime {

// The one thread that calls into the sink connector: initialize, consumer_configs,
// process_batch, health_check, shutdown, one at a time (connector code may block, and need
// not be thread-safe). A detached actor, so blocking never stalls the scheduler.
//
//   (init_atom)      -> SinkInitResult
//   ProcessRequest   -> ProcessOutcome, sent to the request's outcome_to
//   (probe_atom)     -> HealthReport
//   (shutdown_atom)  -> done
// `activity` is marked busy during every connector call but health_check().
caf::actor spawn_sink_worker(caf::actor_system& system,
                             std::shared_ptr<connect::SinkConnector> connector, ContextPtr context,
                             std::shared_ptr<ConnectorActivity> activity);

}  // namespace danube::runtime
