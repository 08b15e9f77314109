#pragma once

// supervisor -> the actors that take new work into a pipeline (sink consumers; the source
// driver and router): stop taking it, or take it again. What is in flight carries on either way.

#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <chrono>

namespace danube::runtime {

// (self) of a paused intake actor: refresh what it holds for the status (RuntimeCounters::
// set_held); carries the pause's generation, so a tick of an earlier pause does nothing.
using held_tick_atom = caf::atom_constant<caf::atom("heldtick")>;
// How often that happens. The client and the source channel signal only when their buffer
// turns non-empty, so what arrives later is counted on these ticks.
constexpr auto kHeldRefreshInterval = std::chrono::milliseconds(200);

struct IntakePause {
  bool paused = true;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, IntakePause& x) {
  return f(caf::meta::type_name("IntakePause"), x.paused);
}

}  // namespace danube::runtime
