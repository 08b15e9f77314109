#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <cstdint>
#include <utility>
#include <vector>

#include "../common/runtime_atoms.hpp"
#include "../common/runtime_context.hpp"
#include "danube/connect/source_record.hpp"
#include "source_driver_actor.hpp"
#include "source_item.hpp"

namespace danube::runtime {

// router -> offset tracker: new records with their offsets.
struct TrackOffsets {
  std::vector<std::pair<std::uint64_t, connect::Offset>> items;  // sequence, offset
};

namespace offset_tracker_detail {
using commit_timer_atom = caf::atom_constant<caf::atom("committick")>;
}  // namespace offset_tracker_detail

// What the tracker needs of the source driver: it commits.
using offset_committer_actor = caf::typed_actor<caf::replies_to<CommitRequest>::with<void>>;

// Commits a source's offsets only when every record up to that offset is settled (accepted by
// the broker, dead-lettered or skipped), in order per source partition: a record published
// late holds back the commit of every later offset of its partition. One commit runs at a
// time, at most one per [offsets] commit_interval_ms; offsets settled meanwhile go into the
// next. Once a drain begins, every settlement is committed at once, so a drain the shutdown
// budget cuts short has still committed everything it published.
//
//   TrackOffsets    new records with offsets (from the router, before they can settle)
//   ItemsSettled    settled records (any; untracked sequences are ignored)
//   drain_all_atom  a drain began: commit without waiting for the interval from now on
//   stop_atom       -> idle_atom once every tracked offset is committed
//   (self) commit_timer_atom
using offset_tracker_actor =
    settlement_listener_actor::extend<caf::reacts_to<TrackOffsets>, caf::reacts_to<drain_all_atom>,
                                      caf::replies_to<stop_atom>::with<idle_atom>,
                                      caf::reacts_to<offset_tracker_detail::commit_timer_atom>>;

offset_tracker_actor spawn_offset_tracker(caf::actor_system& system, ContextPtr context,
                                          offset_committer_actor driver);

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::TrackOffsets)
