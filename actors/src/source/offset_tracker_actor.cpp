#include "offset_tracker_actor.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "../common/runtime_actor.hpp"

namespace danube::runtime {
namespace {

struct Tracked {
  connect::Offset offset;
  bool settled = false;
};

struct OffsetTrackerState {
  ContextPtr context;
  offset_committer_actor driver;
  // Per source partition, by sequence. Entries are never erased, so the iterators in
  // partition_of stay valid and a settlement does no string work.
  using Partitions = std::map<std::string, std::map<std::uint64_t, Tracked>>;
  Partitions partitions;
  std::unordered_map<std::uint64_t, Partitions::iterator> partition_of;  // sequence -> partition
  std::map<std::string, connect::Offset> ready;  // committable, newest per partition
  bool committing = false;
  bool timer_armed = false;
  // Draining: commit every settlement at once, so whatever the shutdown budget lets the drain
  // publish is committed even if it ends the drain before the backlog is out.
  bool draining = false;
  Clock::time_point last_commit{};
  std::vector<caf::typed_response_promise<idle_atom>> idle_waiters;

  static inline const char* name = "danube-offset-tracker";
};

using TrackerActor = TypedStatefulActor<offset_tracker_actor, OffsetTrackerState>;

void notify_if_idle(TrackerActor* self) {
  auto& state = self->state;
  if (state.idle_waiters.empty() || state.committing || !state.ready.empty() ||
      !state.partition_of.empty()) {
    return;
  }
  for (auto& waiter : state.idle_waiters)
    waiter.deliver(idle_atom::value);
  state.idle_waiters.clear();
}

using offset_tracker_detail::commit_timer_atom;

// Commits what is ready — at most once per [offsets] commit_interval_ms (every commit fsyncs the
// offset store and runs the connector's commit() on the driver's thread, between polls), and at
// once while a drain waits.
void commit_ready(TrackerActor* self) {
  auto& state = self->state;
  if (state.committing || state.ready.empty()) {
    notify_if_idle(self);
    return;
  }
  const auto interval = std::chrono::milliseconds(state.context->config.offsets.commit_interval_ms);
  const auto due = state.last_commit + interval;
  if (state.idle_waiters.empty() && !state.draining && Clock::now() < due) {
    if (!state.timer_armed) {
      state.timer_armed = true;
      self->delayed_send(self, due - Clock::now(), commit_timer_atom::value);
    }
    return;
  }
  state.last_commit = Clock::now();
  CommitRequest request;
  for (auto& [partition, offset] : state.ready)
    request.offsets.push_back(std::move(offset));
  state.ready.clear();
  state.committing = true;
  self->request(state.driver, caf::infinite, std::move(request))
      .then(
          [=] {
            self->state.committing = false;
            commit_ready(self);
          },
          [=](const caf::error&) {
            self->state.committing = false;
            commit_ready(self);
          });
}

}  // namespace

offset_tracker_actor spawn_offset_tracker(caf::actor_system& system, ContextPtr context,
                                          offset_committer_actor driver) {
  return system.spawn(
      [](TrackerActor* self, ContextPtr context,
         offset_committer_actor driver) -> offset_tracker_actor::behavior_type {
        self->state.context = context;
        self->state.driver = driver;
        return {
            [=](TrackOffsets& track) {
              auto& state = self->state;
              for (auto& [sequence, offset] : track.items) {
                auto partition = state.partitions.try_emplace(offset.partition).first;
                partition->second.emplace(sequence, Tracked{std::move(offset), false});
                state.partition_of.emplace(sequence, partition);
              }
            },
            [=](const ItemsSettled& settled) {
              auto& state = self->state;
              // A settlement usually touches one or two source partitions.
              std::vector<OffsetTrackerState::Partitions::iterator> touched;
              for (const auto sequence : settled.sequences) {
                auto found = state.partition_of.find(sequence);
                if (found == state.partition_of.end()) continue;
                const auto partition = found->second;
                if (auto item = partition->second.find(sequence); item != partition->second.end())
                  item->second.settled = true;
                if (std::find(touched.begin(), touched.end(), partition) == touched.end())
                  touched.push_back(partition);
              }
              for (const auto partition : touched) {
                auto& tracked = partition->second;
                // Advance over the settled prefix only: order per partition.
                while (!tracked.empty() && tracked.begin()->second.settled) {
                  state.ready.insert_or_assign(partition->first,
                                               std::move(tracked.begin()->second.offset));
                  state.partition_of.erase(tracked.begin()->first);
                  tracked.erase(tracked.begin());
                }
              }
              commit_ready(self);
            },
            [=](drain_all_atom) {
              self->state.draining = true;
              commit_ready(self);
            },
            [=](commit_timer_atom) {
              self->state.timer_armed = false;
              commit_ready(self);
            },
            [=](stop_atom) {
              auto promise = self->make_response_promise<idle_atom>();
              self->state.idle_waiters.push_back(promise);
              commit_ready(self);  // the final commit does not wait for the interval
              return promise;
            },
        };
      },
      std::move(context), std::move(driver));
}

}  // namespace danube::runtime
