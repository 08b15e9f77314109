#include "consumer_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/messages.hpp"
#include "../common/runtime_actor.hpp"
#include "danube/client/consumer.hpp"

namespace danube::runtime::consumer_detail {

// An ack confirmed (or refused) by the broker, reported from a client thread.
struct AckDone {
  bool ok = true;
  std::chrono::duration<double> latency{};
  std::string error;
};

}  // namespace danube::runtime::consumer_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::consumer_detail::AckDone)

namespace danube::runtime {
namespace {

using consumer_detail::AckDone;

struct ConsumerActorState {
  ConsumerActorConfig config;
  bool batcher_expects_more = false;  // the last RecordBatch said more was coming
  std::uint64_t reconnects_seen = 0;  // the client's resubscriptions already counted
  std::size_t outstanding_records = 0;
  std::size_t outstanding_bytes = 0;
  std::size_t acks_in_flight = 0;
  bool intake_open = true;
  std::vector<caf::response_promise> idle_waiters;

  ~ConsumerActorState() {
    // Closing joins the client's reader threads and drains its acks: blocking work for the
    // broker I/O actor, never for a scheduler thread.
    if (config.consumer && config.broker_io) {
      caf::anon_send(config.broker_io, CloseRequest{std::move(config.consumer), nullptr});
    }
  }

  static inline const char* name = "danube-consumer";
};

using ConsumerActor = RuntimeStatefulActor<ConsumerActorState>;

std::size_t footprint(const client::ReceivedMessage& message) {
  return message.payload.size() + message.id.topic_name.size() + 128;
}

void notify_if_idle(ConsumerActor* self) {
  auto& state = self->state;
  if (state.intake_open || state.outstanding_records > 0 || state.acks_in_flight > 0) return;
  for (auto& waiter : state.idle_waiters)
    waiter.deliver(idle_atom::value);
  state.idle_waiters.clear();
}

void pull(ConsumerActor* self) {
  auto& state = self->state;
  const ConsumerActorConfig& config = state.config;
  if (!state.intake_open || !config.consumer) return;
  const bool out_of_credit = state.outstanding_records >= config.max_records ||
                             state.outstanding_bytes >= config.max_bytes;
  const std::size_t wanted =
      out_of_credit ? 0
                    : std::min(config.max_records - state.outstanding_records, config.batch_size);
  auto messages =
      wanted == 0 ? std::vector<client::ReceivedMessage>{} : config.consumer->try_receive(wanted);
  if (messages.empty()) {
    // Nothing now: the ready callback (or an ack returning credit) calls pull again. Tell the
    // batcher, if it still expects more from us, that it need not wait.
    if (state.batcher_expects_more) {
      state.batcher_expects_more = false;
      self->send(config.batcher, RecordBatch{config.source, {}, true});
    }
    return;
  }

  RecordBatch batch;
  batch.source = config.source;
  batch.records.reserve(messages.size());
  const auto now = Clock::now();
  for (auto& message : messages) {
    InflightRecord record;
    record.bytes = footprint(message);
    record.message = std::move(message);
    record.topic = config.subscription.topic;
    record.expected_schema_subject = config.subscription.expected_schema_subject;
    record.owner = caf::actor_cast<caf::actor>(self);
    record.source = config.source;
    record.received_at = now;
    state.outstanding_records += 1;
    state.outstanding_bytes += record.bytes;
    batch.records.push_back(std::move(record));
  }
  const auto count = batch.records.size();
  const bool credit_left =
      state.outstanding_records < config.max_records && state.outstanding_bytes < config.max_bytes;
  const bool more = count == wanted && credit_left;  // the buffer may hold more right now
  batch.drained = !more;
  state.batcher_expects_more = more;
  config.context->counters->add(config.context->counters->received, count);
  config.context->metrics->record_received(config.subscription.topic, count);
  config.context->metrics->add_inflight(config.subscription.topic,
                                        static_cast<std::int64_t>(count));
  self->send(config.batcher, std::move(batch));
  if (more) self->send(self, pull_atom::value);
}

void acknowledge(ConsumerActor* self, AckRecords& done) {
  auto& state = self->state;
  const ConsumerActorConfig& config = state.config;
  const caf::actor_addr me = self->address();
  for (auto& record : done.records) {
    state.outstanding_records -= 1;
    state.outstanding_bytes -= std::min(state.outstanding_bytes, record.bytes);
    if (!config.consumer) continue;  // closed: the broker redelivers it (at least once)
    ++state.acks_in_flight;
    const auto started = Clock::now();
    config.consumer->ack_async(
        record.message.request_id, record.message.id, [me, started](client::Status status) {
          // A client thread: hand the outcome to the actor, which may be gone by now.
          if (auto target = caf::actor_cast<caf::actor>(me)) {
            caf::anon_send(target,
                           AckDone{status.ok(), Clock::now() - started,
                                   status.ok() ? std::string() : status.error().to_string()});
          }
        });
  }
  config.context->metrics->add_inflight(config.subscription.topic,
                                        -static_cast<std::int64_t>(done.records.size()));
  if (config.consumer) {
    const auto resubscribes = config.consumer->stats().resubscribes;
    for (; state.reconnects_seen < resubscribes; ++state.reconnects_seen) {
      config.context->metrics->record_reconnect(config.subscription.topic);
    }
  }
  pull(self);
}

}  // namespace

caf::actor spawn_consumer_actor(caf::actor_system& system, ConsumerActorConfig config) {
  return system.spawn(
      [](ConsumerActor* self, ConsumerActorConfig config) -> caf::behavior {
        self->state.config = std::move(config);
        const caf::actor_addr me = self->address();
        self->state.config.consumer->set_ready_callback([me] {
          if (auto target = caf::actor_cast<caf::actor>(me))
            caf::anon_send(target, pull_atom::value);
        });
        return {
            [=](pull_atom) { pull(self); },
            [=](AckRecords& done) {
              acknowledge(self, done);
              notify_if_idle(self);
            },
            [=](const AckDone& done) {
              auto& state = self->state;
              --state.acks_in_flight;
              const auto& topic = state.config.subscription.topic;
              if (done.ok) {
                state.config.context->counters->add(state.config.context->counters->acked);
                state.config.context->metrics->record_acked(topic);
                state.config.context->metrics->observe_ack_latency(topic, done.latency);
              } else {
                // The broker will redeliver the message: at-least-once, nothing lost.
                state.config.context->metrics->record_failed(topic, connect::ErrorType::ack);
                spdlog::warn("event=ack_failed topic={} error=\"{}\"", state.config.partition_topic,
                             done.error);
              }
              notify_if_idle(self);
            },
            [=](close_atom) {
              // Hands the client consumer over for closing; nothing is pulled or acked after.
              auto& state = self->state;
              if (state.config.consumer) state.config.consumer->set_ready_callback({});
              return CloseRequest{std::move(state.config.consumer), nullptr};
            },
            [=](stop_atom) {
              auto& state = self->state;
              state.intake_open = false;
              if (state.config.consumer) state.config.consumer->set_ready_callback({});
              auto promise = self->make_response_promise();
              state.idle_waiters.push_back(promise);
              notify_if_idle(self);
              return promise;
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
