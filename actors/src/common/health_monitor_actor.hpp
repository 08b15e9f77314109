#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <memory>

#include "connector_activity.hpp"
#include "connector_failure.hpp"
#include "connector_worker.hpp"
#include "runtime_atoms.hpp"
#include "runtime_context.hpp"

namespace danube::runtime {

namespace health_detail {
using connectivity_atom = caf::atom_constant<caf::atom("connected")>;
}  // namespace health_detail

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
//
//   reset_atom                         a new pipeline incarnation runs
//   (self) probe_atom, connectivity_atom
using health_monitor_actor =
    caf::typed_actor<caf::reacts_to<reset_atom>, caf::reacts_to<probe_atom>,
                     caf::reacts_to<health_detail::connectivity_atom>>;

struct HealthMonitorConfig {
  ContextPtr context;
  connector_worker_actor worker;                      // runs health_check()
  failure_listener_actor supervisor;                  // told when the failure threshold is reached
  std::shared_ptr<const ConnectorActivity> activity;  // whether the worker is busy in a call
  std::chrono::milliseconds probe_interval{30000};
  std::chrono::milliseconds connectivity_interval{1000};
};

health_monitor_actor spawn_health_monitor(caf::actor_system& system, HealthMonitorConfig config);

}  // namespace danube::runtime
