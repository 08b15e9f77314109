#include "batcher_actor.hpp"

#include <deque>
#include <map>
#include <set>

#include "../common/messages.hpp"
#include "../common/runtime_actor.hpp"

namespace danube::runtime {
namespace {

struct BatcherState {
  BatcherConfig config;
  std::map<std::size_t, std::deque<InflightRecord>> queues;  // per source, in arrival order
  std::set<std::size_t> blocked;
  std::set<std::size_t> sources_with_more;  // said more records are coming right away
  std::size_t queued_records = 0;
  bool worker_busy = false;
  bool draining = false;
  std::uint64_t next_batch_id = 1;
  std::uint64_t timer_generation = 0;
  std::optional<Clock::time_point> timer_due;

  static inline const char* name = "danube-batcher";
};

using BatcherActor = RuntimeStatefulActor<BatcherState>;

// The arrival time of the oldest record that could be batched now.
std::optional<Clock::time_point> oldest_ready(const BatcherState& state) {
  std::optional<Clock::time_point> oldest;
  for (const auto& [source, queue] : state.queues) {
    if (queue.empty() || state.blocked.count(source)) continue;
    const auto arrived = queue.front().received_at;
    if (!oldest || arrived < *oldest) oldest = arrived;
  }
  return oldest;
}

std::size_t ready_records(const BatcherState& state) {
  std::size_t ready = 0;
  for (const auto& [source, queue] : state.queues) {
    if (!state.blocked.count(source)) ready += queue.size();
  }
  return ready;
}

void arm_timer(BatcherActor* self, Clock::time_point due) {
  auto& state = self->state;
  if (state.timer_due && *state.timer_due <= due) return;  // an earlier timer is armed
  state.timer_due = due;
  const auto generation = ++state.timer_generation;
  const auto delay = std::max(due - Clock::now(), Clock::duration::zero());
  self->delayed_send(self, delay, flush_atom::value, generation);
}

std::vector<InflightRecord> take_batch(BatcherState& state) {
  std::vector<InflightRecord> batch;
  std::size_t bytes = 0;
  // Round robin over the sources, each in order, so one busy partition cannot starve others.
  bool took = true;
  while (took && batch.size() < state.config.batch_size && bytes < state.config.batch_bytes) {
    took = false;
    for (auto& [source, queue] : state.queues) {
      if (queue.empty() || state.blocked.count(source)) continue;
      if (batch.size() >= state.config.batch_size || bytes >= state.config.batch_bytes) break;
      bytes += queue.front().bytes;
      batch.push_back(std::move(queue.front()));
      queue.pop_front();
      took = true;
    }
  }
  state.queued_records -= batch.size();
  return batch;
}

void maybe_flush(BatcherActor* self) {
  auto& state = self->state;
  if (state.worker_busy) return;
  const auto oldest = oldest_ready(state);
  if (!oldest) return;
  const auto due = *oldest + state.config.linger;
  const bool full = ready_records(state) >= state.config.batch_size;
  // Waiting only makes sense while records are still arriving; otherwise flush now.
  const bool input_idle = state.sources_with_more.empty();
  if (!full && !state.draining && !input_idle && Clock::now() < due) {
    arm_timer(self, due);
    return;
  }
  ProcessRequest request;
  request.batch_id = state.next_batch_id++;
  request.records = take_batch(state);
  request.outcome_to = state.config.retry_supervisor;
  request.batcher = caf::actor_cast<caf::actor>(self);
  state.worker_busy = true;
  self->send(state.config.worker, std::move(request));
}

}  // namespace

caf::actor spawn_batcher(caf::actor_system& system, BatcherConfig config) {
  return system.spawn(
      [](BatcherActor* self, BatcherConfig config) -> caf::behavior {
        self->state.config = std::move(config);
        return {
            [=](RecordBatch& batch) {
              auto& state = self->state;
              if (batch.drained) {
                state.sources_with_more.erase(batch.source);
              } else {
                state.sources_with_more.insert(batch.source);
              }
              for (auto& record : batch.records) {
                state.queues[record.source].push_back(std::move(record));
                ++state.queued_records;
              }
              maybe_flush(self);
            },
            [=](flush_atom, std::uint64_t generation) {
              auto& state = self->state;
              if (generation != state.timer_generation) return;  // superseded
              state.timer_due.reset();
              maybe_flush(self);
            },
            [=](BatchSettled& settled) {
              auto& state = self->state;
              state.worker_busy = false;
              state.blocked.insert(settled.blocked_sources.begin(), settled.blocked_sources.end());
              state.timer_due.reset();
              maybe_flush(self);
            },
            [=](Requeue& requeue) {
              auto& state = self->state;
              auto& queue = state.queues[requeue.source];
              for (auto it = requeue.records.rbegin(); it != requeue.records.rend(); ++it) {
                queue.push_front(std::move(*it));
                ++state.queued_records;
              }
              state.blocked.erase(requeue.source);
              maybe_flush(self);
            },
            [=](drain_all_atom) {
              self->state.draining = true;
              maybe_flush(self);
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
