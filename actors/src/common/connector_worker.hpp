#pragma once

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <string>

#include "runtime_atoms.hpp"

namespace danube::runtime {

// The outcome of connector.health_check().
struct HealthReport {
  bool ok = true;
  std::string detail;
};

// What the runtime asks of the one thread that calls the connector, whichever kind it is (the
// sink worker or the source driver):
//   probe_atom     -> HealthReport (runs health_check())
//   shutdown_atom  -> done (runs shutdown())
using connector_worker_actor = caf::typed_actor<caf::replies_to<probe_atom>::with<HealthReport>,
                                                caf::replies_to<shutdown_atom>::with<void>>;

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::HealthReport)
