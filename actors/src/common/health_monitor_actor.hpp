#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <chrono>
#include <memory>

#include "connector_activity.hpp"
#include "runtime_context.hpp"

namespace danube::runtime {

struct HealthMonitorConfig {
  ContextPtr context;
  caf::actor worker;      // answers probe_atom with a HealthReport (runs health_check())
  caf::actor supervisor;  // told ConnectorFailed when the failure threshold is reached
  std::shared_ptr<const ConnectorActivity> activity;  // whether the worker is busy in a call
  std::chrono::milliseconds probe_interval{30000};
  std::chrono::milliseconds connectivity_interval{1000};
};

// Runs the connector's health_check() every probe interval (the first after one interval, as
// the seed does) and watches the broker connection; keeps the HealthState behind /health and
// /ready and the health gauge current. After processing.health_check_failure_threshold
// consecutive failures the connector is reported failed, once per crossing: `reset_atom` (a
// new pipeline incarnation runs) and every successful check start the count afresh.
//
// A probe waits behind the connector call in progress (one thread calls the connector). A
// probe that goes unanswered while the connector is busy in a call is not a failure: a busy
// connector is not an unhealthy one. Only a probe unanswered while the worker is idle, or a
// health_check() that fails, counts.
caf::actor spawn_health_monitor(caf::actor_system& system, HealthMonitorConfig config);

}  // namespace danube::runtime
