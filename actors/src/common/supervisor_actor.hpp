#pragma once

#include <caf/actor_addr.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <vector>

#include "connector_failure.hpp"
#include "danube/runtime/embedding.hpp"
#include "runtime_atoms.hpp"

namespace danube::runtime {

// The root of a sink or source runtime: the public connector_actor (drain_atom, status_atom)
// and what its own actors tell it.
//
//   drain_atom      -> RuntimeStatus, once drained (see embedding.hpp)
//   status_atom     -> RuntimeStatus
//   ConnectorFailed a fatal failure of the connector or of one of its actors
//   children_atom   -> the addresses of the long-lived actors (for tests that kill them)
//   (self) restart_atom, timeout_atom
using supervisor_actor =
    connector_actor::extend<caf::reacts_to<ConnectorFailed>,
                            caf::replies_to<children_atom>::with<std::vector<caf::actor_addr>>,
                            caf::reacts_to<restart_atom>, caf::reacts_to<timeout_atom>>;

}  // namespace danube::runtime
