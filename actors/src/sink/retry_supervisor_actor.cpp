#include "retry_supervisor_actor.hpp"

#include <spdlog/spdlog.h>

#include <map>
#include <set>

#include "../common/dead_letter.hpp"
#include "../common/messages.hpp"
#include "../common/runtime_actor.hpp"

namespace danube::runtime::retry_detail {

// A group of records of one source whose backoff has elapsed.
struct RetryDue {
  caf::actor batcher;
  std::size_t source = 0;
  std::vector<InflightRecord> records;
};

}  // namespace danube::runtime::retry_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::retry_detail::RetryDue)

namespace danube::runtime {
namespace {

using retry_detail::RetryDue;

struct RetrySupervisorState {
  RetrySupervisorConfig config;
  static inline const char* name = "danube-retry-supervisor";
};

using RetrySupervisorActor = RuntimeStatefulActor<RetrySupervisorState>;

// What one outcome asks for, gathered before anything is sent.
struct Decisions {
  std::vector<std::pair<caf::actor, std::vector<InflightRecord>>> acks;  // per owner
  std::map<std::size_t, std::vector<InflightRecord>> retries;            // per source, in order
  std::vector<DeadLetterItem> dead_letters;
  std::optional<ConnectorFailed> fatal;

  void ack(InflightRecord record) {
    for (auto& [owner, records] : acks) {
      if (owner == record.owner) {
        records.push_back(std::move(record));
        return;
      }
    }
    caf::actor owner = record.owner;
    acks.emplace_back(std::move(owner), std::vector<InflightRecord>{});
    acks.back().second.push_back(std::move(record));
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
void apply_failure_policy(RetrySupervisorActor* self, Decisions& decisions, InflightRecord record,
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
      item.notify = record.owner;
      item.on_published = caf::make_message(AckRecords{{record}});
      decisions.dead_letters.push_back(std::move(item));
      break;
    }
    case connect::DeadLetterPolicy::skip:
      spdlog::warn("event=record_skipped topic={} offset={} error=\"{}\"", record.topic,
                   record.message.id.topic_offset, error.what());
      context.counters->add(context.counters->skipped);
      decisions.ack(std::move(record));
      break;
    case connect::DeadLetterPolicy::fail:
      decisions.fatal = ConnectorFailed{error,
                                        "record " + record.message.id.topic_name + "@" +
                                            std::to_string(record.message.id.topic_offset),
                                        self->state.config.incarnation};
      break;
  }
}

Decisions decide(RetrySupervisorActor* self, ProcessOutcome& outcome) {
  const RuntimeContext& context = *self->state.config.context;
  Backoff& backoff = *self->state.config.backoff;
  Decisions decisions;
  for (std::size_t i = 0; i < outcome.records.size(); ++i) {
    InflightRecord& record = outcome.records[i];
    const auto& error = outcome.errors[i];
    if (outcome.deferred[i]) {
      // Not attempted: it goes back behind whatever of its source waits for a retry.
      decisions.retries[record.source].push_back(std::move(record));
      continue;
    }
    if (!error) {
      context.counters->add(context.counters->processed);
      context.metrics->record_processed(record.topic);
      decisions.ack(std::move(record));
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

}  // namespace

caf::actor spawn_retry_supervisor(caf::actor_system& system, RetrySupervisorConfig config) {
  return system.spawn(
      [](RetrySupervisorActor* self, RetrySupervisorConfig config) -> caf::behavior {
        self->state.config = std::move(config);
        return {
            [=](ProcessOutcome& outcome) {
              const auto& config = self->state.config;
              observe_batch(*config.context, outcome);
              Decisions decisions = decide(self, outcome);
              for (auto& [owner, records] : decisions.acks) {
                self->send(owner, AckRecords{std::move(records)});
              }
              if (!decisions.dead_letters.empty()) {
                self->send(config.dead_letter_router,
                           DeadLetterRequest{std::move(decisions.dead_letters)});
              }
              if (decisions.fatal) {
                // The pipeline stops; unacked records are redelivered by the broker later.
                self->send(config.supervisor, std::move(*decisions.fatal));
                return;
              }
              BatchSettled settled;
              for (auto& [source, records] : decisions.retries) {
                settled.blocked_sources.push_back(source);
                std::uint32_t attempts = 0;
                for (const auto& record : records)
                  attempts = std::max(attempts, record.attempts);
                const auto delay = config.backoff->delay(attempts);
                self->delayed_send(self, delay,
                                   RetryDue{outcome.batcher, source, std::move(records)});
              }
              self->send(outcome.batcher, std::move(settled));
            },
            [=](RetryDue& due) {
              self->send(due.batcher, Requeue{due.source, std::move(due.records)});
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
