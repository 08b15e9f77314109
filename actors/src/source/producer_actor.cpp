#include "producer_actor.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <limits>
#include <map>

#include "../common/dead_letter.hpp"
#include "../common/runtime_actor.hpp"
#include "danube/client/producer.hpp"
#include "danube/common/backoff.hpp"
#include "danube/common/bounded_queue.hpp"
#include "danube/services/schema_codec.hpp"

namespace danube::runtime::producer_detail {

struct SendDone {
  std::uint64_t token = 0;
  std::optional<client::Error> error;
  std::chrono::duration<double> latency{};
};

struct ResendDue {
  std::uint64_t token = 0;
};

}  // namespace danube::runtime::producer_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::producer_detail::ResendDue)

namespace danube::runtime {
namespace {

using producer_detail::create_atom;
using producer_detail::ResendDue;
using producer_detail::SendDone;
using producer_detail::sends_done_atom;

struct ProducerActorState {
  ProducerActorConfig config;
  std::unique_ptr<Backoff> backoff;
  std::shared_ptr<client::Producer> producer;
  bool creating = false;
  std::uint32_t create_failures = 0;
  std::deque<SourceItem> waiting;  // until the client producer exists
  // Sent or waiting for a resend, by token. The message itself goes to the client (moved, not
  // copied) and is built again from the record for the rare resend.
  std::map<std::uint64_t, SourceItem> pending;
  std::uint64_t next_token = 1;
  // Sends the broker has answered, filled by client threads, drained on sends_done_atom.
  // (The one bounded queue type; pushes never wait, and in-flight credit bounds what is queued.)
  // An answer does not wake the actor: while sends are out, sends_done_atom comes every
  // kSendCountInterval and takes what arrived meanwhile. The client sends a partition's next
  // message from the previous one's completion, so only settlement (offsets, the driver's
  // credit) waits, and one wake-up serves every answer of the interval instead of one each.
  std::shared_ptr<BoundedQueue<SendDone>> send_completions =
      std::make_shared<BoundedQueue<SendDone>>(std::numeric_limits<std::size_t>::max(), 0, nullptr);
  std::size_t sends_out = 0;           // started and not yet taken from send_completions
  bool count_armed = false;            // a sends_done_atom is on its way
  std::vector<std::uint64_t> settled;  // for the router, sent once per handled message

  ~ProducerActorState() {
    // Closing flushes and may wait: broker I/O's job, not a scheduler thread's.
    if (producer && config.broker_io) {
      caf::anon_send(config.broker_io, CloseRequest{nullptr, std::move(producer)});
    }
  }

  static inline const char* name = "danube-producer";
};

using ProducerActor = TypedStatefulActor<producer_actor, ProducerActorState>;

// How long a send the broker answered may wait to be settled.
constexpr auto kSendCountInterval = std::chrono::milliseconds(1);

void count_sends_later(ProducerActor* self) {
  auto& state = self->state;
  if (state.count_armed) return;
  state.count_armed = true;
  self->delayed_send(self, kSendCountInterval, sends_done_atom::value);
}

void settle(ProducerActor* self, std::uint64_t sequence) {
  self->state.settled.push_back(sequence);
}

// One ItemsSettled for everything settled while handling the current message.
void send_settled(ProducerActor* self) {
  auto& state = self->state;
  if (state.settled.empty()) return;
  self->send(state.config.router,
             ItemsSettled{std::move(state.settled), state.config.config.topic});
  state.settled.clear();
}

// The [dead_letter] policy for a record that cannot be published.
void fail_for_good(ProducerActor* self, SourceItem item, const std::string& payload,
                   const connect::ConnectorError& error) {
  auto& state = self->state;
  const RuntimeContext& context = *state.config.context;
  const std::string& topic = state.config.config.topic;
  switch (context.config.dead_letter.policy) {
    case connect::DeadLetterPolicy::dead_letter: {
      DeadLetterItem dead;
      dead.message =
          dead_letter_message(item, topic, payload, error, context.config.connector_name);
      dead.origin_topic = topic;
      dead.error_type = connect::ErrorType::publish;
      dead.on_published = SettleWhenDeadLettered{state.config.router, item.sequence};
      self->send(state.config.dead_letter_router, DeadLetterRequest{{std::move(dead)}});
      break;
    }
    case connect::DeadLetterPolicy::skip:
      spdlog::warn("event=record_skipped topic={} error=\"{}\"", topic, error.what());
      context.counters->add(context.counters->skipped);
      settle(self, item.sequence);
      break;
    case connect::DeadLetterPolicy::fail:
      self->send(state.config.supervisor,
                 ConnectorFailed{error, "publish to " + topic, state.config.incarnation});
      break;
  }
}

// The record as the broker gets it: encoded with the topic's schema. Throws when it cannot be.
client::OutgoingMessage message_of(const ProducerActorState& state,
                                   const connect::SourceRecord& record) {
  client::OutgoingMessage message;
  message.payload = state.config.schema && state.config.schema->codec
                        ? state.config.schema->codec->encode(record)
                        : record.payload().str();
  message.attributes.insert(record.attributes().begin(), record.attributes().end());
  message.key = record.key();
  return message;
}

void send(ProducerActor* self, std::uint64_t token, client::OutgoingMessage message) {
  auto& state = self->state;
  const auto started = Clock::now();
  ++state.sends_out;
  state.producer->send_async(
      std::move(message), [completions = state.send_completions, token,
                           started](client::Result<client::SendReceipt> result) {
        // A client thread: queue the outcome for the next sends_done_atom.
        std::optional<client::Error> error;
        if (!result) error = result.error();
        completions->push_now(SendDone{token, std::move(error), Clock::now() - started});
      });
  count_sends_later(self);
}

// A resend after a failed publish: the record encoded again (it was once, so it is again).
void resend(ProducerActor* self, std::uint64_t token) {
  auto& state = self->state;
  auto found = state.pending.find(token);
  if (found == state.pending.end() || !state.producer) return;
  client::OutgoingMessage message;
  try {
    message = message_of(state, found->second.envelope.record);
  } catch (...) {
    const auto error =
        connect::error_from_current_exception("encode for " + state.config.config.topic);
    SourceItem item = std::move(found->second);
    state.pending.erase(found);
    std::string payload = item.envelope.record.payload().str();
    fail_for_good(self, std::move(item), payload, error);
    send_settled(self);
    return;
  }
  send(self, token, std::move(message));
}

void publish(ProducerActor* self, SourceItem item) {
  auto& state = self->state;
  const RuntimeContext& context = *state.config.context;
  client::OutgoingMessage message;
  try {
    message = message_of(state, item.envelope.record);
  } catch (...) {
    const auto error =
        connect::error_from_current_exception("encode for " + state.config.config.topic);
    context.counters->add(context.counters->failed);
    context.metrics->record_failed(state.config.config.topic, connect::ErrorType::serialization);
    std::string payload = item.envelope.record.payload().str();  // before `item` moves
    fail_for_good(self, std::move(item), payload, error);
    return;
  }
  const std::uint64_t token = state.next_token++;
  state.pending.emplace(token, std::move(item));
  send(self, token, std::move(message));
}

void create_producer(ProducerActor* self) {
  auto& state = self->state;
  if (state.producer || state.creating) return;
  state.creating = true;
  CreateProducerRequest request;
  request.config = state.config.config;
  request.producer_name = connect::default_producer_name(
      state.config.context->config.connector_name, state.config.config.topic);
  request.stop = state.config.stop;
  self->request(state.config.broker_io, caf::infinite, std::move(request))
      .then(
          [=](CreateProducerResult& result) {
            auto& state = self->state;
            state.creating = false;
            if (result.error) {
              const bool retryable =
                  result.error->client_error() && result.error->client_error()->is_retryable();
              ++state.create_failures;
              if (!retryable || !state.backoff->should_retry(state.create_failures - 1)) {
                self->send(
                    state.config.supervisor,
                    ConnectorFailed{*result.error, "create producer", state.config.incarnation});
                return;
              }
              self->delayed_send(self, state.backoff->delay(state.create_failures),
                                 create_atom::value);
              return;
            }
            state.producer = std::move(result.producer);
            spdlog::info("event=producer_ready topic={} partitions={} reliable={}",
                         state.config.config.topic, state.config.config.partitions,
                         state.config.config.reliable_dispatch);
            while (!state.waiting.empty()) {
              publish(self, std::move(state.waiting.front()));
              state.waiting.pop_front();
            }
            send_settled(self);
          },
          [=](const caf::error& error) {
            // Broker I/O is gone (the runtime respawns it and rebuilds the pipeline).
            self->send(self->state.config.supervisor,
                       ConnectorFailed{connect::ConnectorError::fatal("create producer: " +
                                                                      self->system().render(error)),
                                       "create producer", self->state.config.incarnation});
          });
}

// True when the send was published.
bool on_send_done(ProducerActor* self, const SendDone& done) {
  auto& state = self->state;
  const RuntimeContext& context = *state.config.context;
  const std::string& topic = state.config.config.topic;
  auto found = state.pending.find(done.token);
  if (found == state.pending.end()) return false;
  if (!done.error) {
    const std::uint64_t sequence = found->second.sequence;
    state.pending.erase(found);
    context.metrics->observe_publish_latency(topic, done.latency);
    settle(self, sequence);
    return true;
  }
  SourceItem& item = found->second;
  const auto now = WallClock::now();
  if (item.attempts == 0) item.first_failure = now;
  item.last_failure = now;
  ++item.attempts;
  context.counters->add(context.counters->failed);
  context.metrics->record_failed(topic, connect::ErrorType::publish);
  const auto error = connect::ConnectorError::danube(*done.error, "publish to " + topic);
  if (done.error->is_retryable() && state.backoff->should_retry(item.attempts - 1)) {
    context.counters->add(context.counters->retried);
    context.metrics->record_retried(topic);
    self->delayed_send(self, state.backoff->delay(item.attempts), ResendDue{done.token});
    return false;
  }
  SourceItem failed = std::move(found->second);
  state.pending.erase(found);
  // The dead letter carries the bytes that failed to publish.
  const auto& record = failed.envelope.record;
  std::string payload;
  try {
    payload = message_of(state, record).payload;
  } catch (...) {
    payload = record.payload().str();
  }
  fail_for_good(self, std::move(failed), payload, error);
  return false;
}

void sends_answered(ProducerActor* self) {
  auto& state = self->state;
  state.count_armed = false;
  const RuntimeContext& context = *state.config.context;
  std::uint64_t published = 0;
  for (const auto& done :
       state.send_completions->try_pop(std::numeric_limits<std::size_t>::max())) {
    --state.sends_out;
    if (on_send_done(self, done)) ++published;
  }
  if (published > 0) {
    context.counters->add(context.counters->processed, published);
    context.metrics->record_processed(state.config.config.topic, published);
  }
  send_settled(self);
  if (state.sends_out > 0) count_sends_later(self);
}

}  // namespace

producer_actor spawn_producer_actor(caf::actor_system& system, ProducerActorConfig config) {
  return system.spawn(
      [](ProducerActor* self, ProducerActorConfig config) -> producer_actor::behavior_type {
        auto& state = self->state;
        state.config = std::move(config);
        state.backoff =
            std::make_unique<Backoff>(state.config.context->config.retry.backoff_policy());
        self->set_exit_handler([self](caf::exit_msg& exit) {
          if (exit.reason == caf::exit_reason::normal) return;
          self->quit(std::move(exit.reason));
        });
        create_producer(self);
        return {
            [=](SourceBatch& batch) {
              auto& state = self->state;
              for (auto& item : batch.items) {
                if (state.producer) {
                  publish(self, std::move(item));
                } else {
                  state.waiting.push_back(std::move(item));
                }
              }
              send_settled(self);
            },
            [=](sends_done_atom) { sends_answered(self); },
            [=](const ResendDue& due) { resend(self, due.token); },
            [=](create_atom) { create_producer(self); },
            [=](close_atom) {
              return CloseRequest{nullptr, std::move(self->state.producer)};
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
