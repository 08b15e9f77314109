#include "source_router_actor.hpp"

#include <spdlog/spdlog.h>

#include "../common/dead_letter.hpp"
#include "../common/runtime_actor.hpp"
#include "producer_actor.hpp"
#include "publish_pacer.hpp"

namespace danube::runtime {
namespace {

struct SourceRouterState {
  SourceRouterConfig config;
  std::map<std::string, producer_actor, std::less<>> producers;  // by topic
  std::uint64_t next_sequence = 1;
  std::size_t outstanding = 0;
  std::optional<PublishPacer> pacer;  // bounds `outstanding`; set once the config is known
  bool stopping = false;
  bool paused = false;  // IntakePause: the channel is not read until resumed or stopping
  std::uint64_t pause_generation = 0;
  // Records routed to each topic and not settled yet: what this actor added to the in-flight
  // gauge.
  std::map<std::string, std::int64_t, std::less<>> inflight;
  std::vector<caf::typed_response_promise<idle_atom>> idle_waiters;

  ~SourceRouterState() {
    // Records never settled (a torn-down pipeline) leave the gauge with this actor: the source
    // polls them again after a restart.
    for (const auto& [topic, count] : inflight) {
      if (count != 0) config.context->metrics->add_inflight(topic, -count);
    }
    if (config.context) config.context->counters->set_held(held_key(), {}, 0);
    // The producers belong to this pipeline incarnation: they end with it.
    for (auto& [topic, producer] : producers) {
      caf::anon_send_exit(producer, caf::exit_reason::user_shutdown);
    }
    if (config.channel) config.channel->set_readable_callback({});
  }

  // This router's entry in RuntimeCounters::set_held.
  std::string held_key() const { return "channel|" + config.producers.front().topic; }

  static inline const char* name = "danube-source-router";
};

using RouterActor = TypedStatefulActor<source_router_actor, SourceRouterState>;

const connect::ProducerConfig* producer_config(const SourceRouterConfig& config,
                                               const std::string& topic) {
  for (const auto& producer : config.producers) {
    if (producer.topic == topic) return &producer;
  }
  return nullptr;
}

producer_actor producer_for(RouterActor* self, const connect::ProducerConfig& config) {
  auto& state = self->state;
  auto found = state.producers.find(config.topic);
  if (found != state.producers.end()) return found->second;
  ProducerActorConfig producer;
  producer.context = state.config.context;
  producer.config = config;
  if (auto schema = state.config.schemas.find(config.topic); schema != state.config.schemas.end()) {
    producer.schema = schema->second;
    producer.config.schema = schema->second.config;
  }
  producer.router = self;
  producer.broker_io = state.config.broker_io;
  producer.dead_letter_router = state.config.dead_letter_router;
  producer.supervisor = state.config.supervisor;
  producer.incarnation = state.config.incarnation;
  producer.stop = state.config.stop;
  auto actor = spawn_producer_actor(self->system(), std::move(producer));
  self->monitor(actor);
  state.producers.emplace(config.topic, actor);
  return actor;
}

// The in-flight gauge follows every record from routing to settlement.
void add_inflight(RouterActor* self, const std::string& topic, std::int64_t count) {
  if (count == 0) return;
  self->state.inflight[topic] += count;
  self->state.config.context->metrics->add_inflight(topic, count);
}

void route(RouterActor* self, std::vector<connect::SourceEnvelope> envelopes) {
  auto& state = self->state;
  const RuntimeContext& context = *state.config.context;
  std::map<std::string, SourceBatch> per_topic;
  TrackOffsets offsets;
  std::vector<DeadLetterItem> unroutable;
  std::map<std::string, std::int64_t> routed;  // per topic, for the in-flight gauge
  state.pacer->observe(state.outstanding, Clock::now());
  for (auto& envelope : envelopes) {
    SourceItem item;
    item.sequence = state.next_sequence++;
    ++state.outstanding;
    std::string topic = envelope.record.topic();
    if (topic.empty()) topic = state.config.producers.front().topic;
    if (envelope.offset) offsets.items.emplace_back(item.sequence, *envelope.offset);
    item.envelope = std::move(envelope);
    ++routed[topic];
    if (producer_config(state.config, topic) == nullptr) {
      const auto error = connect::ConnectorError::invalid_data(
          "record for topic '" + topic + "', which producer_configs() does not list");
      context.counters->add(context.counters->failed);
      context.metrics->record_failed(topic, connect::ErrorType::invalid_data);
      if (context.config.dead_letter.policy == connect::DeadLetterPolicy::fail) {
        self->send(state.config.supervisor,
                   ConnectorFailed{error, "route", state.config.incarnation});
        continue;
      }
      if (context.config.dead_letter.policy == connect::DeadLetterPolicy::skip) {
        context.counters->add(context.counters->skipped);
        self->send(self, ItemsSettled{{item.sequence}, topic});
        continue;
      }
      DeadLetterItem dead;
      dead.message = dead_letter_message(item, topic, item.envelope.record.payload().str(), error,
                                         context.config.connector_name);
      dead.origin_topic = topic;
      dead.error_type = connect::ErrorType::invalid_data;
      dead.on_published = SettleWhenDeadLettered{self, item.sequence};
      unroutable.push_back(std::move(dead));
      continue;
    }
    per_topic[topic].items.push_back(std::move(item));
  }
  // Counted per topic, not per record: each metrics update takes the registry's lock.
  context.counters->add(context.counters->received, envelopes.size());
  for (const auto& [topic, count] : routed) {
    context.metrics->record_received(topic, static_cast<std::uint64_t>(count));
    add_inflight(self, topic, count);
  }
  // The tracker learns of the offsets before any of them can be settled.
  if (!offsets.items.empty()) self->send(state.config.offset_tracker, std::move(offsets));
  for (auto& [topic, batch] : per_topic) {
    self->send(producer_for(self, *producer_config(state.config, topic)), std::move(batch));
  }
  if (!unroutable.empty()) {
    self->send(state.config.dead_letter_router, DeadLetterRequest{std::move(unroutable)});
  }
}

void drain_channel(RouterActor* self) {
  auto& state = self->state;
  const auto& channel = state.config.channel;
  if (!channel) return;
  // Paused, the connector's records wait in the channel; a drain publishes them anyway.
  if (state.paused && !state.stopping) return;
  const std::size_t limit = state.pacer->limit();
  if (state.outstanding >= limit) return;  // settlements call this again
  const std::size_t wanted =
      std::min(limit - state.outstanding, state.config.context->config.processing.batch_size);
  auto envelopes = channel->try_receive(wanted);
  const bool maybe_more = envelopes.size() == wanted;
  if (!envelopes.empty()) route(self, std::move(envelopes));
  if (maybe_more) self->send(self, readable_atom::value);
}

// While paused: the records the connector sent that wait in the channel, for the status.
void show_held(RouterActor* self) {
  auto& state = self->state;
  const auto& channel = state.config.channel;
  const std::uint64_t held = state.paused && !state.stopping && channel ? channel->size() : 0;
  state.config.context->counters->set_held(state.held_key(), {}, held);
}

void refresh_held_later(RouterActor* self) {
  self->delayed_send(self, kHeldRefreshInterval, held_tick_atom::value,
                     self->state.pause_generation);
}

void set_paused(RouterActor* self, bool paused) {
  auto& state = self->state;
  if (state.paused == paused) return;
  state.paused = paused;
  ++state.pause_generation;
  show_held(self);
  if (paused) {
    if (state.config.channel) refresh_held_later(self);
  } else {
    drain_channel(self);
  }
}

void notify_if_idle(RouterActor* self) {
  auto& state = self->state;
  if (!state.stopping || state.outstanding > 0) return;
  if (state.config.channel && state.config.channel->size() > 0) return;
  for (auto& waiter : state.idle_waiters)
    waiter.deliver(idle_atom::value);
  state.idle_waiters.clear();
}

}  // namespace

source_router_actor spawn_source_router(caf::actor_system& system, SourceRouterConfig config) {
  return system.spawn(
      [](RouterActor* self, SourceRouterConfig config) -> source_router_actor::behavior_type {
        self->state.config = std::move(config);
        const auto& settings = self->state.config.context->config;
        self->state.pacer.emplace(publish_pacer_for(
            settings.processing.batch_size, settings.delivery.max_inflight_records,
            std::chrono::milliseconds(settings.shutdown.timeout_ms)));
        if (const auto& channel = self->state.config.channel) {
          const WeakHandle<source_router_actor> me(self);
          channel->set_readable_callback([me] { me.send(readable_atom::value); });
        }
        if (self->state.config.paused) set_paused(self, true);
        self->set_down_handler([=](caf::down_msg& down) {
          if (down.reason == caf::exit_reason::user_shutdown ||
              down.reason == caf::exit_reason::normal) {
            return;
          }
          self->send(
              self->state.config.supervisor,
              ConnectorFailed{connect::ConnectorError::fatal("a producer actor stopped: " +
                                                             self->system().render(down.reason)),
                              "producer", self->state.config.incarnation});
        });
        return {
            [=](Envelopes& envelopes) { route(self, std::move(envelopes.envelopes)); },
            [=](readable_atom) { drain_channel(self); },
            [=](const IntakePause& pause) { set_paused(self, pause.paused); },
            [=](held_tick_atom, std::uint64_t generation) {
              auto& state = self->state;
              if (!state.paused || generation != state.pause_generation) return;
              show_held(self);
              refresh_held_later(self);
            },
            [=](ItemsSettled& settled) {
              auto& state = self->state;
              const std::size_t count = settled.sequences.size();
              add_inflight(self, settled.topic, -static_cast<std::int64_t>(count));
              state.pacer->observe(state.outstanding, Clock::now());
              state.pacer->settled(count);
              state.outstanding -= std::min(state.outstanding, count);
              self->send(state.config.offset_tracker, std::move(settled));
              if (!state.config.channel) {
                self->send(state.config.driver, Credit{count, state.pacer->limit()});
              }
              drain_channel(self);
              notify_if_idle(self);
            },
            [=](stop_atom) {
              auto& state = self->state;
              state.stopping = true;
              show_held(self);  // the drain takes what the channel holds
              spdlog::info(
                  "event=drain_publishing outstanding={} queued={} read_ahead_limit={} "
                  "publish_rate={:.0f}",
                  state.outstanding, state.config.channel ? state.config.channel->size() : 0,
                  state.pacer->limit(), state.pacer->records_per_second());
              auto promise = self->make_response_promise<idle_atom>();
              state.idle_waiters.push_back(promise);
              drain_channel(self);  // what the source already sent is published, not dropped
              notify_if_idle(self);
              return promise;
            },
            [=](close_atom, Clock::time_point deadline) {
              // Every producer flushes and closes its client producer (on broker I/O) until
              // `deadline`; the answer comes once all have.
              auto& state = self->state;
              auto promise = self->make_response_promise<void>();
              // A typed promise of nothing is delivered through its untyped self.
              auto answer = [](caf::typed_response_promise<void>& promise) {
                static_cast<caf::response_promise&>(promise).deliver(caf::unit);
              };
              auto remaining = std::make_shared<std::size_t>(state.producers.size());
              if (*remaining == 0) answer(promise);
              const auto timeout = [deadline] {
                return std::max(
                    std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()),
                    std::chrono::milliseconds(1));
              };
              for (auto& [topic, producer] : state.producers) {
                auto done = [=]() mutable {
                  if (--*remaining == 0) answer(promise);
                };
                self->request(producer, timeout(), close_atom::value)
                    .then(
                        [=](CloseRequest& request) mutable {
                          request.deadline = deadline;
                          self->request(self->state.config.broker_io, timeout(), std::move(request))
                              .then([=]() mutable { done(); },
                                    [=](const caf::error&) mutable { done(); });
                        },
                        [=](const caf::error&) mutable { done(); });
              }
              return promise;
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
