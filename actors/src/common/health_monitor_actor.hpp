#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <chrono>

#include "runtime_context.hpp"

namespace danube::runtime {

struct HealthMonitorConfig {
  ContextPtr context;
  caf::actor worker;      // answers probe_atom with a HealthReport (runs health_check())
  caf::actor supervisor;  // told ConnectorFailed when the failure threshold is reached
  std::chrono::milliseconds probe_interval{30000};
  std::chrono::milliseconds connectivity_interval{1000};
};

// Runs the connector's health_check() every probe interval (the first after one interval, as
// the seed does) and watches the broker connection; keeps the HealthState behind /health and
// /ready and the health gauge current. After processing.health_check_failure_threshold
// consecutive failures the connector is reported failed.
caf::actor spawn_health_monitor(caf::actor_system& system, HealthMonitorConfig config);

}  // namespace danube::runtime
