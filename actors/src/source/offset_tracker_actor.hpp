#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>

#include "../common/runtime_context.hpp"

namespace danube::runtime {

// Commits a source's offsets only when every record up to that offset is settled (accepted by
// the broker, dead-lettered or skipped), in order per source partition: a record published
// late holds back the commit of every later offset of its partition. One commit runs at a
// time, at most one per [offsets] commit_interval_ms; offsets settled meanwhile go into the
// next. Once a drain begins, every settlement is committed at once, so a drain the shutdown
// budget cuts short has still committed everything it published.
//
//   TrackOffsets   new records with offsets (from the router, before they can settle)
//   ItemsSettled   settled records (any; untracked sequences are ignored)
//   drain_all_atom a drain began: commit without waiting for the interval from now on
//   (stop_atom)    -> idle_atom once every tracked offset is committed
caf::actor spawn_offset_tracker(caf::actor_system& system, ContextPtr context, caf::actor driver);

}  // namespace danube::runtime
