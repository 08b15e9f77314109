#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "../common/connector_activity.hpp"
#include "../common/connector_worker.hpp"
#include "../common/runtime_atoms.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/sink_connector.hpp"
#include "inflight_record.hpp"

namespace danube::runtime {

// What initialize() and consumer_configs() gave.
struct SinkInitResult {
  std::vector<connect::ConsumerConfig> configs;
  std::optional<connect::ConnectorError> error;
};

// The worker's answer to a ProcessRequest: one outcome per record — processed (no error, not
// deferred), failed (an error; when the whole call failed, every record carries that error) or
// deferred (not attempted, to be handed over again behind its partition's retries).
struct ProcessOutcome {
  std::uint64_t batch_id = 0;
  std::vector<InflightRecord> records;
  // By position in `records`. Each stays empty until a record fails or is deferred: a batch
  // processed in full, the usual case, allocates neither.
  std::vector<std::optional<connect::ConnectorError>> errors;
  std::vector<bool> deferred;
  std::chrono::duration<double> elapsed{};

  // Record i's error, or nullptr when it has none.
  const connect::ConnectorError* error(std::size_t i) const;
  bool is_deferred(std::size_t i) const;
  void set_error(std::size_t i, connect::ConnectorError error);
  void set_deferred(std::size_t i);
};

// Where outcomes go.
using outcome_listener_actor = caf::typed_actor<caf::reacts_to<ProcessOutcome>>;

struct ProcessRequest {
  std::uint64_t batch_id = 0;
  std::vector<InflightRecord> records;
  outcome_listener_actor outcome_to;  // the dispatcher of the current pipeline
};

// The one thread that calls into the sink connector: initialize, consumer_configs,
// process_batch, health_check, shutdown, one at a time (connector code may block, and need
// not be thread-safe). A detached actor, so blocking never stalls the scheduler.
//
//   init_atom        -> SinkInitResult
//   ProcessRequest   decodes and processes; the ProcessOutcome goes to the request's outcome_to
//   probe_atom       -> HealthReport
//   shutdown_atom    -> done
using sink_worker_actor =
    connector_worker_actor::extend<caf::replies_to<init_atom>::with<SinkInitResult>,
                                   caf::reacts_to<ProcessRequest>>;

// `activity` is marked busy during every connector call but health_check().
sink_worker_actor spawn_sink_worker(caf::actor_system& system,
                                    std::shared_ptr<connect::SinkConnector> connector,
                                    ContextPtr context,
                                    std::shared_ptr<ConnectorActivity> activity);

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SinkInitResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ProcessOutcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ProcessRequest)
