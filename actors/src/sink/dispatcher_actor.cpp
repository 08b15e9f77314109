#include "dispatcher_actor.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <deque>
#include <map>
#include <set>
#include <span>

#include "../common/dead_letter.hpp"
#include "../common/runtime_actor.hpp"

namespace danube::runtime::dispatcher_detail {

// Records of one source whose backoff has elapsed: they go to the front of its queue.
struct RetryDue {
  std::size_t source = 0;
  std::vector<InflightRecord> records;
};

}  // namespace danube::runtime::dispatcher_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::dispatcher_detail::RetryDue)

namespace danube::runtime {
namespace {

using dispatcher_detail::RetryDue;

struct DispatcherState {
  DispatcherConfig config;
  std::map<std::size_t, std::deque<InflightRecord>> queues;  // per source, in arrival order
  std::set<std::size_t> blocked;                             // sources waiting for a retry
  std::set<std::size_t> sources_with_more;  // said more records are coming right away
  bool worker_busy = false;
  bool draining = false;
  std::uint64_t next_batch_id = 1;
  std::uint64_t timer_generation = 0;
  std::optional<Clock::time_point> timer_due;

  static inline const char* name = "danube-dispatcher";
};

using DispatcherActor = TypedStatefulActor<dispatcher_actor, DispatcherState>;

// The arrival time of the oldest record that could be batched now.
std::optional<Clock::time_point> oldest_ready(const DispatcherState& state) {
  std::optional<Clock::time_point> oldest;
  for (const auto& [source, queue] : state.queues) {
    if (queue.empty() || state.blocked.count(source)) continue;
    const auto arrived = queue.front().received_at;
    if (!oldest || arrived < *oldest) oldest = arrived;
  }
  return oldest;
}

std::size_t ready_records(const DispatcherState& state) {
  std::size_t ready = 0;
  for (const auto& [source, queue] : state.queues) {
    if (!state.blocked.count(source)) ready += queue.size();
  }
  return ready;
}

void arm_timer(DispatcherActor* self, Clock::time_point due) {
  auto& state = self->state;
  if (state.timer_due && *state.timer_due <= due) return;  // an earlier timer is armed
  state.timer_due = due;
  const auto generation = ++state.timer_generation;
  const auto delay = std::max(due - Clock::now(), Clock::duration::zero());
  self->delayed_send(self, delay, flush_atom::value, generation);
}

// `ready`: ready_records(state), which the caller has counted already.
std::vector<InflightRecord> take_batch(DispatcherState& state, std::size_t ready) {
  std::vector<InflightRecord> batch;
  batch.reserve(std::min(state.config.batch_size, ready));
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
  return batch;
}

void maybe_flush(DispatcherActor* self) {
  auto& state = self->state;
  if (state.worker_busy) return;
  const auto oldest = oldest_ready(state);
  if (!oldest) return;
  const auto due = *oldest + state.config.linger;
  const std::size_t ready = ready_records(state);
  const bool full = ready >= state.config.batch_size;
  // Waiting only makes sense while records are still arriving; otherwise flush now.
  const bool input_idle = state.sources_with_more.empty();
  if (!full && !state.draining && !input_idle && Clock::now() < due) {
    arm_timer(self, due);
    return;
  }
  ProcessRequest request;
  request.batch_id = state.next_batch_id++;
  request.records = take_batch(state, ready);
  request.outcome_to = self;
  state.worker_busy = true;
  self->send(state.config.worker, std::move(request));
}

// What one outcome asks for, gathered before anything is sent.
struct Decisions {
  std::vector<std::pair<record_owner_actor, std::vector<InflightRecord>>> acks;  // per owner
  std::map<std::size_t, std::vector<InflightRecord>> retries;  // per source, in order
  std::vector<DeadLetterItem> dead_letters;
  std::optional<ConnectorFailed> fatal;
  std::map<std::string, std::uint64_t> processed;  // records per topic, counted once per batch

  // `later`: the outcome's records after this one. A new owner's list gets room at once for
  // those of them it owns: a record is slow to move (a message and its strings), and each
  // growth of the list would move the records before it again.
  void ack(InflightRecord&& record, std::span<const InflightRecord> later) {
    for (auto& [owner, records] : acks) {
      if (owner == record.owner) {
        records.push_back(std::move(record));
        return;
      }
    }
    const auto owned_later =
        std::count_if(later.begin(), later.end(),
                      [&](const InflightRecord& next) { return next.owner == record.owner; });
    auto& records = acks.emplace_back(record.owner, std::vector<InflightRecord>{}).second;
    records.reserve(1 + static_cast<std::size_t>(owned_later));
    records.push_back(std::move(record));
  }
};

bool is_fatal_kind(connect::ErrorKind kind) {
  return kind == connect::ErrorKind::fatal || kind == connect::ErrorKind::configuration;
}

void record_failure(InflightRecord& record) {
  const auto now = WallClock::now();
  if (record.attempts == 0) record.first_failure = now;
  record.last_failure = now;
  ++record.attempts;
}

// The [dead_letter] policy for a record that failed for good.
void apply_failure_policy(DispatcherActor* self, Decisions& decisions, InflightRecord record,
                          const connect::ConnectorError& error) {
  const RuntimeContext& context = *self->state.config.context;
  const auto error_type = record.stage == FailureStage::decode ? connect::ErrorType::decode
                                                               : connect::error_type_of(error);
  switch (context.config.dead_letter.policy) {
    case connect::DeadLetterPolicy::dead_letter: {
      DeadLetterItem item;
      item.message = dead_letter_message(record, error, context.config.connector_name);
      item.origin_topic = record.topic;
      item.error_type = error_type;
      item.on_published = AckWhenDeadLettered{std::move(record)};
      decisions.dead_letters.push_back(std::move(item));
      break;
    }
    case connect::DeadLetterPolicy::skip:
      spdlog::warn("event=record_skipped topic={} offset={} error=\"{}\"", record.topic,
                   record.message.id.topic_offset, error.what());
      context.counters->add(context.counters->skipped);
      decisions.ack(std::move(record), {});
      break;
    case connect::DeadLetterPolicy::fail:
      decisions.fatal = ConnectorFailed{error,
                                        "record " + record.message.id.topic_name + "@" +
                                            std::to_string(record.message.id.topic_offset),
                                        self->state.config.incarnation};
      break;
  }
}

Decisions decide(DispatcherActor* self, ProcessOutcome& outcome) {
  const RuntimeContext& context = *self->state.config.context;
  Backoff& backoff = *self->state.config.backoff;
  Decisions decisions;
  for (std::size_t i = 0; i < outcome.records.size(); ++i) {
    InflightRecord& record = outcome.records[i];
    const connect::ConnectorError* error = outcome.error(i);
    if (outcome.is_deferred(i)) {
      // Not attempted: it goes back behind whatever of its source waits for a retry.
      decisions.retries[record.source].push_back(std::move(record));
      continue;
    }
    if (!error) {
      ++decisions.processed[record.topic];
      decisions.ack(std::move(record), std::span(outcome.records).subspan(i + 1));
      continue;
    }
    context.counters->add(context.counters->failed);
    context.metrics->record_failed(record.topic, record.stage == FailureStage::decode
                                                     ? connect::ErrorType::decode
                                                     : connect::error_type_of(*error));
    if (is_fatal_kind(error->kind())) {
      decisions.fatal = ConnectorFailed{*error, "process_batch", self->state.config.incarnation};
      continue;
    }
    const bool retry = error->is_retryable() && backoff.should_retry(record.attempts);
    record_failure(record);
    if (retry) {
      context.counters->add(context.counters->retried);
      context.metrics->record_retried(record.topic);
      decisions.retries[record.source].push_back(std::move(record));
      continue;
    }
    if (error->is_retryable()) {
      const auto exhausted =
          connect::ConnectorError(connect::ErrorKind::retryable,
                                  "retries exhausted after " + std::to_string(record.attempts) +
                                      " attempts: " + error->message());
      apply_failure_policy(self, decisions, std::move(record), exhausted);
    } else {
      apply_failure_policy(self, decisions, std::move(record), *error);
    }
  }
  return decisions;
}

void observe_batch(const RuntimeContext& context, const ProcessOutcome& outcome) {
  std::map<std::string_view, std::size_t> per_topic;
  for (const auto& record : outcome.records)
    ++per_topic[record.topic];
  for (const auto& [topic, count] : per_topic) {
    context.metrics->observe_batch_size(topic, count);
    context.metrics->observe_processing_duration(topic, outcome.elapsed);
  }
}

void settle(DispatcherActor* self, ProcessOutcome& outcome) {
  auto& state = self->state;
  const auto& config = state.config;
  observe_batch(*config.context, outcome);
  Decisions decisions = decide(self, outcome);
  for (const auto& [topic, count] : decisions.processed) {
    config.context->counters->add(config.context->counters->processed, count);
    config.context->metrics->record_processed(topic, count);
  }
  for (auto& [owner, records] : decisions.acks) {
    self->send(owner, AckRecords{std::move(records)});
  }
  if (!decisions.dead_letters.empty()) {
    self->send(config.dead_letter_router, DeadLetterRequest{std::move(decisions.dead_letters)});
  }
  if (decisions.fatal) {
    // The pipeline stops; unacked records are redelivered by the broker later. Nothing more
    // goes to the worker meanwhile (it stays marked busy).
    self->send(config.supervisor, std::move(*decisions.fatal));
    return;
  }
  for (auto& [source, records] : decisions.retries) {
    state.blocked.insert(source);
    std::uint32_t attempts = 0;
    for (const auto& record : records)
      attempts = std::max(attempts, record.attempts);
    self->delayed_send(self, config.backoff->delay(attempts), RetryDue{source, std::move(records)});
  }
  state.worker_busy = false;
  state.timer_due.reset();
  maybe_flush(self);
}

}  // namespace

dispatcher_actor spawn_dispatcher(caf::actor_system& system, DispatcherConfig config) {
  return system.spawn(
      [](DispatcherActor* self, DispatcherConfig config) -> dispatcher_actor::behavior_type {
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
              }
              maybe_flush(self);
            },
            [=](ProcessOutcome& outcome) { settle(self, outcome); },
            [=](flush_atom, std::uint64_t generation) {
              auto& state = self->state;
              if (generation != state.timer_generation) return;  // superseded
              state.timer_due.reset();
              maybe_flush(self);
            },
            [=](RetryDue& due) {
              auto& queue = self->state.queues[due.source];
              for (auto it = due.records.rbegin(); it != due.records.rend(); ++it) {
                queue.push_front(std::move(*it));
              }
              self->state.blocked.erase(due.source);
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
