#pragma once

// The atoms of the runtime's actor interfaces (at most 10 characters each). Which actor accepts
// which is declared in that actor's header.

#include <caf/atom.hpp>

namespace danube::runtime {

using init_atom = caf::atom_constant<caf::atom("init")>;          // call initialize()
using probe_atom = caf::atom_constant<caf::atom("probe")>;        // call health_check()
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;  // call shutdown()
using poll_atom = caf::atom_constant<caf::atom("poll")>;          // poll the source connector
using pull_atom = caf::atom_constant<caf::atom("pull")>;  // pull records from a client buffer
using readable_atom = caf::atom_constant<caf::atom("readable")>;  // an envelope channel has data
using flush_atom = caf::atom_constant<caf::atom("flush")>;        // a timer or group commit is due
using drain_all_atom =
    caf::atom_constant<caf::atom("drainall")>;              // flush everything now, ignore timers
using stop_atom = caf::atom_constant<caf::atom("stop")>;    // stop intake
using idle_atom = caf::atom_constant<caf::atom("idle")>;    // reply: nothing left in flight
using close_atom = caf::atom_constant<caf::atom("close")>;  // hand a client over for closing
using reset_atom = caf::atom_constant<caf::atom("reset")>;  // a new pipeline incarnation runs
using restart_atom = caf::atom_constant<caf::atom("restart")>;  // build the pipeline again
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;  // a drain's time is up
// -> the runtime's long-lived actors (connector, broker I/O, dead-letter router, health monitor)
using children_atom = caf::atom_constant<caf::atom("children")>;

}  // namespace danube::runtime
