#include "dead_letter_router_actor.hpp"

#include <spdlog/spdlog.h>

#include <deque>
#include <map>

#include "danube/client/producer.hpp"
#include "danube/common/backoff.hpp"
#include "runtime_actor.hpp"

namespace danube::runtime::dead_letter_detail {

struct Published {
  std::uint64_t token = 0;
  bool ok = true;
  std::string error;
};

}  // namespace danube::runtime::dead_letter_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::dead_letter_detail::Published)

namespace danube::runtime {
namespace {

using dead_letter_detail::create_atom;
using dead_letter_detail::Published;
using dead_letter_detail::retry_atom;

// Publishes in flight at once; dead letters are rare, so a small window is plenty.
constexpr std::size_t kMaxInFlight = 64;

struct DeadLetterRouterState {
  DeadLetterRouterConfig config;
  std::unique_ptr<Backoff> backoff;
  std::shared_ptr<client::Producer> producer;
  bool creating = false;
  std::uint32_t create_failures = 0;
  std::deque<DeadLetterItem> queue;
  std::map<std::uint64_t, DeadLetterItem> in_flight;
  std::uint64_t next_token = 1;
  std::uint32_t publish_failures = 0;  // consecutive, for the backoff
  bool retry_armed = false;

  ~DeadLetterRouterState() {
    if (producer && config.broker_io) {
      caf::anon_send(config.broker_io, CloseRequest{nullptr, std::move(producer)});
    }
  }

  static inline const char* name = "danube-dead-letter-router";
};

using RouterActor = TypedStatefulActor<dead_letter_router_actor, DeadLetterRouterState>;

void create_producer(RouterActor* self) {
  auto& state = self->state;
  if (state.producer || state.creating) return;
  state.creating = true;
  const RuntimeContext& context = *state.config.context;
  CreateProducerRequest request;
  request.config = connect::ProducerConfig(context.config.dead_letter_topic(), 0, true);
  request.producer_name = context.config.connector_name + "-dlq";
  request.stop = state.config.stop;
  auto retry_later = [self](const std::string& error) {
    auto& state = self->state;
    state.creating = false;
    ++state.create_failures;
    const auto delay = state.backoff->delay(state.create_failures);
    spdlog::error("event=dead_letter_producer_failed topic={} retry_in_ms={} error=\"{}\"",
                  state.config.context->config.dead_letter_topic(), delay.count(), error);
    self->delayed_send(self, delay, create_atom::value);
  };
  self->request(state.config.broker_io, caf::infinite, std::move(request))
      .then(
          [=](CreateProducerResult& result) {
            auto& state = self->state;
            if (result.error) {
              retry_later(result.error->what());
              return;
            }
            state.creating = false;
            state.create_failures = 0;
            state.producer = std::move(result.producer);
            self->send(self, retry_atom::value);
          },
          [=](const caf::error& error) { retry_later(self->system().render(error)); });
}

// The record behind a published dead letter is done: its consumer acks it, or its router
// settles it.
void notify_published(RouterActor* self, DeadLetterItem& item) {
  if (auto* sink = std::get_if<AckWhenDeadLettered>(&item.on_published)) {
    record_owner_actor owner = sink->record.owner;
    self->send(owner, AckRecords{{std::move(sink->record)}});
  } else if (auto* source = std::get_if<SettleWhenDeadLettered>(&item.on_published)) {
    self->send(source->router, ItemsSettled{{source->sequence}, item.origin_topic});
  }
}

void pump(RouterActor* self) {
  auto& state = self->state;
  if (!state.producer) {
    create_producer(self);
    return;
  }
  const WeakHandle<dead_letter_router_actor> me(self);
  while (!state.queue.empty() && state.in_flight.size() < kMaxInFlight) {
    DeadLetterItem item = std::move(state.queue.front());
    state.queue.pop_front();
    const std::uint64_t token = state.next_token++;
    client::OutgoingMessage message = item.message;  // kept for a retry
    state.in_flight.emplace(token, std::move(item));
    state.producer->send_async(
        std::move(message), [me, token](client::Result<client::SendReceipt> r) {
          me.send(Published{token, r.ok(), r.ok() ? std::string() : r.error().to_string()});
        });
  }
}

}  // namespace

dead_letter_router_actor spawn_dead_letter_router(caf::actor_system& system,
                                                  DeadLetterRouterConfig config) {
  return system.spawn(
      [](RouterActor* self,
         DeadLetterRouterConfig config) -> dead_letter_router_actor::behavior_type {
        self->state.config = std::move(config);
        self->state.backoff =
            std::make_unique<Backoff>(self->state.config.context->config.retry.backoff_policy());
        return {
            [=](DeadLetterRequest& request) {
              for (auto& item : request.items)
                self->state.queue.push_back(std::move(item));
              pump(self);
            },
            [=](create_atom) { create_producer(self); },
            [=](close_atom) {
              return CloseRequest{nullptr, std::move(self->state.producer)};
            },
            [=](retry_atom) {
              self->state.retry_armed = false;
              pump(self);
            },
            [=](const Published& published) {
              auto& state = self->state;
              auto found = state.in_flight.find(published.token);
              if (found == state.in_flight.end()) return;
              DeadLetterItem item = std::move(found->second);
              state.in_flight.erase(found);
              const RuntimeContext& context = *state.config.context;
              if (published.ok) {
                state.publish_failures = 0;
                context.counters->add(context.counters->dead_lettered);
                context.metrics->record_dead_lettered(item.origin_topic, item.error_type);
                notify_published(self, item);
                pump(self);
                return;
              }
              // Never drop a dead letter: try again after a backoff, first in line.
              context.metrics->record_failed(item.origin_topic, connect::ErrorType::dead_letter);
              ++state.publish_failures;
              spdlog::warn("event=dead_letter_publish_failed topic={} error=\"{}\"",
                           context.config.dead_letter_topic(), published.error);
              state.queue.push_front(std::move(item));
              if (!state.retry_armed) {
                state.retry_armed = true;
                self->delayed_send(self, state.backoff->delay(state.publish_failures),
                                   retry_atom::value);
              }
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
