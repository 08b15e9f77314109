#include "consumer_actor.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <filesystem>
#include <limits>
#include <optional>

#include "../common/runtime_actor.hpp"
#include "danube/client/consumer.hpp"
#include "danube/common/bounded_queue.hpp"
#include "gap_report.hpp"
#include "partition_continuity.hpp"
#include "sink_buffer.hpp"
#include "sink_offset_file.hpp"

namespace danube::runtime::consumer_detail {

// Time to look at offsets jumped over again (PartitionContinuity::sweep).
struct GapSweep {};

// Time to count the acks the broker answered since the actor last ran.
struct AckTick {};

// An ack confirmed (or refused) by the broker, reported from a client thread.
struct AckDone {
  bool ok = true;
  std::chrono::duration<double> latency{};
  std::string error;
};

}  // namespace danube::runtime::consumer_detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::consumer_detail::GapSweep)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::consumer_detail::AckTick)

namespace danube::runtime {
namespace {

using consumer_detail::AckDone;
using consumer_detail::acks_done_atom;
using consumer_detail::AckTick;
using consumer_detail::GapSweep;

// How often offsets jumped over are looked at again: a gap is reported between one and two
// of these after the jump unless the offsets arrive late (Danube reorders a partition's offsets
// when its producer has several sends in flight).
constexpr auto kGapSweepInterval = std::chrono::seconds(1);

// How long the broker's answers to acks may wait to be counted (acked counters, ack latency)
// when nothing else makes the actor run.
constexpr auto kAckCountInterval = std::chrono::milliseconds(100);

struct ConsumerActorState {
  ConsumerActorConfig config;
  bool dispatcher_expects_more = false;  // the last RecordBatch said more was coming
  std::uint64_t reconnects_seen = 0;     // the client's resubscriptions already counted
  std::size_t outstanding_records = 0;
  std::size_t outstanding_bytes = 0;
  std::size_t acks_in_flight = 0;
  // Acks the broker has answered, filled by client threads. (The one bounded queue type; pushes
  // never wait, and in-flight credit bounds what is queued.) Credit comes back when an ack is
  // sent, not answered, so the answers are only counted: whenever the actor runs anyway, and
  // at the latest by an AckTick. Only while a drain waits for them (wake_on_ack) does an
  // answer wake the actor: at full speed that saves a wake-up per burst of answers.
  std::shared_ptr<BoundedQueue<AckDone>> ack_completions =
      std::make_shared<BoundedQueue<AckDone>>(std::numeric_limits<std::size_t>::max(), 0, nullptr);
  std::shared_ptr<std::atomic<bool>> wake_on_ack = std::make_shared<std::atomic<bool>>(false);
  bool ack_tick_armed = false;
  bool intake_open = true;
  bool paused = false;  // IntakePause: nothing more is taken until resumed
  std::uint64_t pause_generation = 0;
  std::vector<caf::typed_response_promise<idle_atom>> idle_waiters;
  // Continuity tracking, when enabled and until the partition turns out not to number its
  // messages (non-reliable topics leave every offset at 0).
  std::optional<PartitionContinuity> continuity;
  std::optional<SinkOffsetFile> offset_file;
  std::optional<std::uint64_t> previous_zero_offset_digest;  // the last message had offset 0
  bool saw_positive_offset = false;  // then the topic is reliable, whatever comes later
  bool gap_failure_sent = false;
  bool gap_sweep_armed = false;
  bool save_failure_logged = false;
  // Acks waiting for the offsets file: a processed batch's are saved and sent at once; those
  // of skipped redeliveries and buffered records wait for a flush_atom (group commit: one save,
  // and with a sink buffer one fsync, for everything that arrived meanwhile).
  std::vector<std::pair<std::uint64_t, client::MessageId>> pending_acks;
  bool flush_scheduled = false;
  // The sink buffer, when enabled, and what this actor has added to its gauges.
  std::optional<SinkBuffer> buffer;
  bool buffer_failed = false;
  std::int64_t shown_buffer_messages = 0;
  std::int64_t shown_buffer_bytes = 0;

  ~ConsumerActorState() {
    if (shown_buffer_messages != 0 || shown_buffer_bytes != 0) {
      config.context->metrics->add_buffered(config.subscription.topic, -shown_buffer_messages,
                                            -shown_buffer_bytes);
    }
    // Records handed out and never acked (a torn-down pipeline) leave the in-flight gauge with
    // this actor: the broker redelivers them to the next one, which counts them again.
    if (outstanding_records > 0 && config.context) {
      config.context->metrics->add_inflight(config.subscription.topic,
                                            -static_cast<std::int64_t>(outstanding_records));
    }
    if (config.context) config.context->counters->set_held(held_key(), {}, 0);
    // Closing joins the client's reader threads and drains its acks: blocking work for the
    // broker I/O actor, never for a scheduler thread. Its ready signal has nobody to wake now.
    if (config.consumer) config.consumer->set_ready_callback({});
    if (config.consumer && config.broker_io) {
      caf::anon_send(config.broker_io, CloseRequest{std::move(config.consumer), nullptr});
    }
  }

  // This consumer's entry in RuntimeCounters::set_held.
  std::string held_key() const {
    return config.partition_topic + "|" + config.subscription.subscription;
  }

  static inline const char* name = "danube-consumer";
};

using ConsumerActor = TypedStatefulActor<consumer_actor, ConsumerActorState>;

std::size_t footprint(const client::ReceivedMessage& message) {
  return message.payload.size() + message.id.topic_name.size() + 128;
}

void notify_if_idle(ConsumerActor* self) {
  auto& state = self->state;
  if (state.intake_open || state.outstanding_records > 0 || state.acks_in_flight > 0 ||
      !state.pending_acks.empty()) {
    return;
  }
  for (auto& waiter : state.idle_waiters)
    waiter.deliver(idle_atom::value);
  state.idle_waiters.clear();
}

// Arms the AckTick that counts the answers to acks in flight, unless one is on its way.
void count_acks_later(ConsumerActor* self) {
  auto& state = self->state;
  if (state.ack_tick_armed || state.acks_in_flight == 0) return;
  state.ack_tick_armed = true;
  self->delayed_send(self, kAckCountInterval, AckTick{});
}

void send_ack(ConsumerActor* self, std::uint64_t request_id, const client::MessageId& id) {
  auto& state = self->state;
  if (!state.config.consumer) return;  // closed: the broker redelivers it (at least once)
  ++state.acks_in_flight;
  const auto started = Clock::now();
  state.config.consumer->ack_async(
      request_id, id, [completions = state.ack_completions, started](client::Status status) {
        // A client thread: queue the outcome (the queue wakes the actor only while a drain
        // waits for acks, see wake_on_ack).
        completions->push_now(AckDone{status.ok(), Clock::now() - started,
                                      status.ok() ? std::string() : status.error().to_string()});
      });
  count_acks_later(self);
}

// Counts what the broker answered to the acks sent since the last time.
void acks_answered(ConsumerActor* self) {
  auto& state = self->state;
  if (state.acks_in_flight == 0) return;
  const RuntimeContext& context = *state.config.context;
  const auto& topic = state.config.subscription.topic;
  std::uint64_t acked = 0;
  for (const auto& done : state.ack_completions->try_pop(std::numeric_limits<std::size_t>::max())) {
    --state.acks_in_flight;
    if (done.ok) {
      ++acked;
      context.metrics->observe_ack_latency(topic, done.latency);
    } else {
      // The broker will redeliver the message: at-least-once, nothing lost.
      context.metrics->record_failed(topic, connect::ErrorType::ack);
      spdlog::warn("event=ack_failed topic={} error=\"{}\"", state.config.partition_topic,
                   done.error);
    }
  }
  if (acked > 0) {
    context.counters->add(context.counters->acked, acked);
    context.metrics->record_acked(topic, acked);
  }
}

// Acks wait for the next save of the offsets file (flush_pending_acks): the file must never
// claim less than the broker was told.
void queue_ack(ConsumerActor* self, std::uint64_t request_id, client::MessageId id) {
  auto& state = self->state;
  state.pending_acks.emplace_back(request_id, std::move(id));
  if (!state.flush_scheduled) {
    state.flush_scheduled = true;
    self->send(self, flush_atom::value);
  }
}

void save_continuity(ConsumerActor* self) {
  auto& state = self->state;
  if (!state.continuity || !state.offset_file) return;  // tracking stopped
  try {
    state.offset_file->save(state.continuity->state(), state.continuity->recorded());
  } catch (const std::exception& e) {
    // Acking anyway loses nothing; a later restart may report processed offsets as lost.
    if (!state.save_failure_logged) {
      spdlog::error("event=sink_offsets_save_failed topic={} error=\"{}\"",
                    state.config.partition_topic, e.what());
      state.save_failure_logged = true;
    }
  }
  state.continuity->clear_recorded();  // saved, or the failed save made the next a snapshot
}

// Gaps an earlier run settled but was stopped before it confirmed their report: reported now
// unless the gap file shows that run wrote them.
void confirm_earlier_reports(ConsumerActor* self) {
  auto& state = self->state;
  const auto& config = state.config;
  const auto unconfirmed = state.continuity->state().unconfirmed_reports;
  if (unconfirmed.empty()) return;
  for (const auto& gap : unconfirmed) {
    const GapReport report{config.subscription.topic, config.partition_topic,
                           config.subscription.subscription, gap, gap.last + 1};
    if (gap_file_holds(config.context->config.gap_file(), report)) {
      spdlog::info("event=gap_report_confirmed topic={} first_offset={} last_offset={}",
                   config.partition_topic, gap.first, gap.last);
    } else {
      report_gap(*config.context, report);
    }
  }
  state.continuity->reports_confirmed();
  save_continuity(self);
}

void start_tracking(ConsumerActor* self) {
  auto& state = self->state;
  const auto& config = state.config;
  const auto& settings = config.context->config;
  state.offset_file.emplace(settings.offsets.state_dir, settings.connector_name,
                            config.partition_topic, config.subscription.subscription);
  std::string problem;
  auto stored = state.offset_file->load(problem);
  if (!problem.empty()) {
    spdlog::error("event=sink_offsets_unreadable file={} error=\"{}\" action=start_without_history",
                  state.offset_file->file().string(), problem);
  }
  if (stored && stored->next_expected) {
    spdlog::info("event=sink_offsets_loaded topic={} next_expected={}", config.partition_topic,
                 *stored->next_expected);
  }
  state.saw_positive_offset = stored && stored->next_expected.value_or(0) > 1;
  state.continuity.emplace(stored.value_or(PartitionContinuity::State{}));
  confirm_earlier_reports(self);
}

void stop_tracking(ConsumerActor* self, std::string_view reason) {
  auto& state = self->state;
  spdlog::info("event=continuity_untracked topic={} reason=\"{}\"", state.config.partition_topic,
               reason);
  state.offset_file->remove();
  state.continuity.reset();
  state.offset_file.reset();
}

void show_buffer_gauges(ConsumerActor* self) {
  auto& state = self->state;
  if (!state.buffer) return;
  const auto messages = static_cast<std::int64_t>(state.buffer->pending());
  const auto bytes = static_cast<std::int64_t>(state.buffer->bytes());
  if (messages == state.shown_buffer_messages && bytes == state.shown_buffer_bytes) return;
  state.config.context->metrics->add_buffered(state.config.subscription.topic,
                                              messages - state.shown_buffer_messages,
                                              bytes - state.shown_buffer_bytes);
  state.shown_buffer_messages = messages;
  state.shown_buffer_bytes = bytes;
}

// The buffer cannot be written or read: nothing more is taken from the broker or acked (what
// was not acked comes back), and the supervisor fails or restarts the pipeline.
void buffer_failed(ConsumerActor* self, const std::string& error) {
  auto& state = self->state;
  const auto& config = state.config;
  if (state.buffer_failed) return;
  state.buffer_failed = true;
  state.pending_acks.clear();
  spdlog::error("event=sink_buffer_failed topic={} error=\"{}\"", config.partition_topic, error);
  if (config.supervisor) {
    self->send(config.supervisor, ConnectorFailed{connect::ConnectorError::fatal(error),
                                                  "sink_buffer", config.incarnation});
  }
}

void open_buffer(ConsumerActor* self) {
  auto& state = self->state;
  const auto& config = state.config;
  try {
    state.buffer.emplace(*config.buffer);
  } catch (const std::exception& e) {
    buffer_failed(self, e.what());
    return;
  }
  if (const auto recovered = state.buffer->recovered(); recovered > 0) {
    spdlog::info("event=sink_buffer_recovered topic={} messages={} bytes={} directory=\"{}\"",
                 config.partition_topic, recovered, state.buffer->bytes(),
                 state.buffer->directory().string());
    config.context->metrics->record_buffer_replayed(config.subscription.topic, recovered);
  }
  show_buffer_gauges(self);
}

// Reports gaps the continuity has just confirmed. Saved (gaps settled, reports unconfirmed)
// before the reports are written, confirmed after: see
// PartitionContinuity::State::unconfirmed_reports. The file must not claim buffered messages
// that are not durable yet (a sync failure throws to the buffered pull).
void report_gaps(ConsumerActor* self, const std::vector<OffsetGap>& gaps,
                 std::uint64_t detected_at) {
  if (gaps.empty()) return;
  auto& state = self->state;
  const auto& config = state.config;
  if (state.buffer && state.buffer->has_unsynced()) state.buffer->sync();
  save_continuity(self);
  for (const auto& gap : gaps) {
    report_gap(*config.context, GapReport{config.subscription.topic, config.partition_topic,
                                          config.subscription.subscription, gap, detected_at});
  }
  state.continuity->reports_confirmed();
  if (config.context->config.delivery.on_gap == connect::OnGap::fail && !state.gap_failure_sent &&
      config.supervisor) {
    state.gap_failure_sent = true;
    const auto& gap = gaps.front();
    self->send(
        config.supervisor,
        ConnectorFailed{connect::ConnectorError::fatal(
                            std::to_string(gap.count()) + " messages lost on " +
                            config.partition_topic + " (offsets " + std::to_string(gap.first) +
                            ".." + std::to_string(gap.last) + ") and delivery.on_gap = \"fail\""),
                        "continuity", config.incarnation});
  }
}

// Offsets jumped over wait for a sweep while they are missing: a late arrival (out of order)
// fills them, otherwise the second sweep after the jump confirms them lost.
void arm_gap_sweep(ConsumerActor* self) {
  auto& state = self->state;
  if (state.gap_sweep_armed || !state.continuity || !state.continuity->has_suspected()) return;
  state.gap_sweep_armed = true;
  self->delayed_send(self, kGapSweepInterval, GapSweep{});
}

void sweep_gaps(ConsumerActor* self, bool everything) {
  auto& state = self->state;
  if (!state.continuity) return;
  try {
    report_gaps(self, state.continuity->sweep(everything),
                state.continuity->state().next_expected.value_or(0));
  } catch (const std::exception& e) {
    buffer_failed(self, e.what());
  }
  arm_gap_sweep(self);
}

struct Admission {
  bool forward = true;  // false: acked here, the connector never sees it
  std::uint64_t identity_digest = 0;
  std::uint64_t epoch = 0;
};

// Checks a message's offset against the partition's continuity.
Admission admit(ConsumerActor* self, const client::ReceivedMessage& message) {
  auto& state = self->state;
  if (!state.continuity) return {};
  const auto& config = state.config;
  const auto offset = message.id.topic_offset;
  const auto identity =
      identify(message.producer_name, message.request_id, message.publish_time, message.payload);
  if (offset > 0) state.saw_positive_offset = true;
  if (offset == 0 && !state.saw_positive_offset) {
    if (state.previous_zero_offset_digest &&
        *state.previous_zero_offset_digest != identity.digest) {
      stop_tracking(self, "two different messages at offset 0: the topic is not reliable");
      return {};
    }
    state.previous_zero_offset_digest = identity.digest;
  } else {
    state.previous_zero_offset_digest.reset();
  }
  const auto verdict = state.continuity->received(offset, identity);
  using Arrival = PartitionContinuity::Arrival;
  switch (verdict.arrival) {
    case Arrival::ahead:
      spdlog::debug("event=offsets_jumped topic={} first_offset={} last_offset={}",
                    config.partition_topic, verdict.gap->first, verdict.gap->last);
      arm_gap_sweep(self);
      break;
    case Arrival::late:
      spdlog::debug("event=offset_late topic={} offset={}", config.partition_topic, offset);
      break;
    case Arrival::already_processed:
      spdlog::debug("event=redelivery_skipped topic={} offset={}", config.partition_topic, offset);
      // After the next save, like every ack: the identity that decided it is in the file.
      queue_ack(self, message.request_id, message.id);
      return Admission{false, identity.digest, verdict.epoch};
    case Arrival::new_sequence:
      spdlog::warn(
          "event=offsets_restarted topic={} offset={} reason=\"an offset below the expected one "
          "carries a new message: the broker numbers from a new start (a restart)\"",
          config.partition_topic, offset);
      report_gaps(self, verdict.lost, offset);
      break;
    case Arrival::uncertain_duplicate:
      spdlog::debug("event=possible_duplicate topic={} offset={}", config.partition_topic, offset);
      break;
    case Arrival::first:
      // Where tracking begins: offsets below it are never reported, and cannot be (the
      // protocol does not say where the subscription began; docs/delivery.md).
      spdlog::info("event=continuity_started topic={} subscription={} first_offset={}",
                   config.partition_topic, config.subscription.subscription, offset);
      break;
    case Arrival::in_order:
    case Arrival::redelivered:
      break;
  }
  report_gaps(self, state.continuity->confirm_gaps(), offset);
  return Admission{true, identity.digest, verdict.epoch};
}

// Adds `message` to a batch for the dispatcher and takes its credit.
InflightRecord& hand_out(ConsumerActor* self, RecordBatch& batch, client::ReceivedMessage message,
                         Clock::time_point now) {
  auto& state = self->state;
  const auto& config = state.config;
  InflightRecord& record = batch.records.emplace_back();
  record.bytes = footprint(message);
  record.message = std::move(message);
  record.topic = config.subscription.topic;
  record.expected_schema_subject = config.subscription.expected_schema_subject;
  record.owner = self;
  record.source = config.source;
  record.received_at = now;
  state.outstanding_records += 1;
  state.outstanding_bytes += record.bytes;
  return record;
}

void pull_for_connector(ConsumerActor* self) {
  auto& state = self->state;
  const ConsumerActorConfig& config = state.config;
  if (!state.intake_open || state.paused || !config.consumer) return;
  const bool out_of_credit = state.outstanding_records >= config.max_records ||
                             state.outstanding_bytes >= config.max_bytes;
  const std::size_t wanted =
      out_of_credit ? 0
                    : std::min(config.max_records - state.outstanding_records, config.batch_size);
  auto messages =
      wanted == 0 ? std::vector<client::ReceivedMessage>{} : config.consumer->try_receive(wanted);
  if (messages.empty()) {
    // Nothing now: the ready callback (or an ack returning credit) calls pull again. Tell the
    // dispatcher, if it still expects more from us, that it need not wait.
    if (state.dispatcher_expects_more) {
      state.dispatcher_expects_more = false;
      self->send(config.dispatcher, RecordBatch{config.source, {}, true});
    }
    return;
  }

  RecordBatch batch;
  batch.source = config.source;
  batch.records.reserve(messages.size());
  const auto now = Clock::now();
  const auto taken = messages.size();
  std::uint64_t skipped = 0;
  for (auto& message : messages) {
    const auto admission = admit(self, message);
    if (!admission.forward) {
      ++skipped;
      continue;
    }
    auto& record = hand_out(self, batch, std::move(message), now);
    record.identity_digest = admission.identity_digest;
    record.continuity_epoch = admission.epoch;
  }
  const auto count = batch.records.size();
  const bool credit_left =
      state.outstanding_records < config.max_records && state.outstanding_bytes < config.max_bytes;
  const bool more = taken == wanted && credit_left;  // the buffer may hold more right now
  batch.drained = !more;
  state.dispatcher_expects_more = more;
  config.context->counters->add(config.context->counters->received, taken);
  config.context->metrics->record_received(config.subscription.topic, taken);
  if (skipped > 0) {
    config.context->counters->add(config.context->counters->redeliveries_skipped, skipped);
    config.context->metrics->record_redelivery_skipped(config.subscription.topic, skipped);
  }
  config.context->metrics->add_inflight(config.subscription.topic,
                                        static_cast<std::int64_t>(count));
  self->send(config.dispatcher, std::move(batch));
  if (more) self->send(self, pull_atom::value);
}

// Buffer mode, broker side: takes what the client has while the buffer has room and appends it.
// Each record is settled for continuity as it is buffered and its ack waits for the next
// flush, which fsyncs the buffer first.
void pull_into_buffer(ConsumerActor* self) {
  auto& state = self->state;
  const ConsumerActorConfig& config = state.config;
  if (!state.intake_open || state.paused || !config.consumer || state.buffer_failed) return;
  if (state.buffer->full()) return;  // finished records free segments and pull again
  auto messages = config.consumer->try_receive(config.batch_size);
  if (messages.empty()) return;
  const auto taken = messages.size();
  std::uint64_t skipped = 0;
  std::uint64_t appended = 0;
  try {
    for (auto& message : messages) {
      const auto admission = admit(self, message);
      if (!admission.forward) {
        ++skipped;
        continue;
      }
      state.buffer->append(message);
      ++appended;
      if (state.continuity) {
        state.continuity->processed(
            message.id.topic_offset,
            MessageIdentity{admission.identity_digest, message.publish_time}, admission.epoch);
      }
      queue_ack(self, message.request_id, std::move(message.id));
    }
  } catch (const std::exception& e) {
    buffer_failed(self, e.what());
    return;
  }
  config.context->counters->add(config.context->counters->received, taken);
  config.context->metrics->record_received(config.subscription.topic, taken);
  config.context->metrics->record_buffer_appended(config.subscription.topic, appended);
  if (skipped > 0) {
    config.context->counters->add(config.context->counters->redeliveries_skipped, skipped);
    config.context->metrics->record_redelivery_skipped(config.subscription.topic, skipped);
  }
  if (taken == config.batch_size && !state.buffer->full()) self->send(self, pull_atom::value);
}

// Buffer mode, connector side: hands synced records to the dispatcher while credit allows. While
// draining nothing new goes out: what is left stays in the buffer for the next run.
void feed_from_buffer(ConsumerActor* self) {
  auto& state = self->state;
  const ConsumerActorConfig& config = state.config;
  if (!state.intake_open || state.paused || state.buffer_failed) return;
  const bool credit_left =
      state.outstanding_records < config.max_records && state.outstanding_bytes < config.max_bytes;
  std::vector<SinkBuffer::Entry> entries;
  if (credit_left && state.buffer->ready() > 0) {
    try {
      entries = state.buffer->next(
          std::min(config.max_records - state.outstanding_records, config.batch_size),
          config.max_bytes - state.outstanding_bytes);
    } catch (const std::exception& e) {
      buffer_failed(self, e.what());
      return;
    }
  }
  if (entries.empty()) {
    if (state.dispatcher_expects_more) {
      state.dispatcher_expects_more = false;
      self->send(config.dispatcher, RecordBatch{config.source, {}, true});
    }
    return;
  }
  RecordBatch batch;
  batch.source = config.source;
  batch.records.reserve(entries.size());
  const auto now = Clock::now();
  for (auto& entry : entries) {
    hand_out(self, batch, std::move(entry.message), now).buffer_sequence = entry.sequence;
  }
  const auto count = batch.records.size();
  const bool more = state.buffer->ready() > 0 && state.outstanding_records < config.max_records &&
                    state.outstanding_bytes < config.max_bytes;
  batch.drained = !more;
  state.dispatcher_expects_more = more;
  config.context->metrics->add_inflight(config.subscription.topic,
                                        static_cast<std::int64_t>(count));
  self->send(config.dispatcher, std::move(batch));
  if (more) self->send(self, pull_atom::value);
}

void pull(ConsumerActor* self);

// While paused: what waits to be taken (in the client's buffer, and in the sink buffer not yet
// handed out), for the status; nothing once resumed.
void show_held(ConsumerActor* self) {
  auto& state = self->state;
  const auto& config = state.config;
  std::uint64_t held = 0;
  if (state.paused) {
    if (config.consumer) held += config.consumer->stats().buffered_messages;
    if (state.buffer && !state.buffer_failed) held += state.buffer->ready();
  }
  config.context->counters->set_held(state.held_key(), config.subscription.topic, held);
}

void refresh_held_later(ConsumerActor* self) {
  self->delayed_send(self, kHeldRefreshInterval, held_tick_atom::value,
                     self->state.pause_generation);
}

// Pause: nothing more leaves the client's buffer (it fills, then the broker's window, and the
// broker stops sending); what was handed out finishes and is acked as usual. Resume: pull.
void set_paused(ConsumerActor* self, bool paused) {
  auto& state = self->state;
  if (state.paused == paused) return;
  state.paused = paused;
  ++state.pause_generation;
  spdlog::debug("event={} topic={}", paused ? "consumer_paused" : "consumer_resumed",
                state.config.partition_topic);
  show_held(self);
  if (!paused) {
    pull(self);
    return;
  }
  // The dispatcher need not wait for more from us: the partial batch can go now.
  if (state.dispatcher_expects_more) {
    state.dispatcher_expects_more = false;
    self->send(state.config.dispatcher, RecordBatch{state.config.source, {}, true});
  }
  refresh_held_later(self);
}

void pull(ConsumerActor* self) {
  if (!self->state.buffer) {
    pull_for_connector(self);
    return;
  }
  pull_into_buffer(self);
  feed_from_buffer(self);
  show_buffer_gauges(self);
}

// Saves the offsets file, then sends the acks it covers: after a crash the file never claims
// more than the broker was told. With a sink buffer, the buffer is fsynced before either.
void flush_pending_acks(ConsumerActor* self) {
  auto& state = self->state;
  if (state.pending_acks.empty()) return;
  if (state.buffer) {
    if (state.buffer_failed) return;
    const auto started = Clock::now();
    try {
      state.buffer->sync();
    } catch (const std::exception& e) {
      buffer_failed(self, e.what());
      return;
    }
    state.config.context->metrics->observe_buffer_sync(state.config.subscription.topic,
                                                       Clock::now() - started);
  }
  save_continuity(self);
  for (const auto& [request_id, id] : state.pending_acks)
    send_ack(self, request_id, id);
  state.pending_acks.clear();
  if (state.buffer) {
    feed_from_buffer(self);
    show_buffer_gauges(self);
  }
}

// Buffer mode: finished records are done in the buffer (they were acked when buffered).
void finish_buffered(ConsumerActor* self, AckRecords& done) {
  auto& state = self->state;
  for (const auto& record : done.records) {
    state.outstanding_records -= 1;
    state.outstanding_bytes -= std::min(state.outstanding_bytes, record.bytes);
    if (record.buffer_sequence && !state.buffer_failed) state.buffer->done(*record.buffer_sequence);
  }
  state.config.context->metrics->add_inflight(state.config.subscription.topic,
                                              -static_cast<std::int64_t>(done.records.size()));
  if (state.buffer_failed) return;
  try {
    state.buffer->save_cursor();
  } catch (const std::exception& e) {
    // Finished records stay marked in memory; an older cursor file only replays more.
    spdlog::warn("event=sink_buffer_cursor_not_saved topic={} error=\"{}\"",
                 state.config.partition_topic, e.what());
  }
}

void acknowledge(ConsumerActor* self, AckRecords& done) {
  auto& state = self->state;
  const ConsumerActorConfig& config = state.config;
  if (state.buffer) {
    try {
      finish_buffered(self, done);
    } catch (const std::exception& e) {
      buffer_failed(self, e.what());  // deleting a finished segment failed
    }
    pull(self);
    return;
  }
  for (auto& record : done.records) {
    state.outstanding_records -= 1;
    state.outstanding_bytes -= std::min(state.outstanding_bytes, record.bytes);
    if (!state.continuity) {
      send_ack(self, record.message.request_id, record.message.id);
      continue;
    }
    state.continuity->processed(
        record.message.id.topic_offset,
        MessageIdentity{record.identity_digest, record.message.publish_time},
        record.continuity_epoch);
    state.pending_acks.emplace_back(record.message.request_id, std::move(record.message.id));
  }
  // One save for the batch (a journal line), then its acks: no message to self in between.
  flush_pending_acks(self);
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

consumer_actor spawn_consumer_actor(caf::actor_system& system, ConsumerActorConfig config) {
  return system.spawn(
      [](ConsumerActor* self, ConsumerActorConfig config) -> consumer_actor::behavior_type {
        self->state.config = std::move(config);
        if (self->state.config.track_continuity) {
          start_tracking(self);
          arm_gap_sweep(self);  // offsets an earlier run saw jumped over
        }
        if (self->state.config.buffer) open_buffer(self);
        if (self->state.config.paused) set_paused(self, true);
        const WeakHandle<consumer_actor> me(self);
        self->state.config.consumer->set_ready_callback([me] { me.send(pull_atom::value); });
        self->state.ack_completions->set_ready_callback([me, wake = self->state.wake_on_ack] {
          if (wake->load()) me.send(acks_done_atom::value);
        });
        self->set_exit_handler([self](caf::exit_msg& exit) {
          if (exit.reason == caf::exit_reason::normal) return;
          // Client threads stop signalling first: nothing is sent to an actor that is ending.
          if (self->state.config.consumer) self->state.config.consumer->set_ready_callback({});
          self->state.ack_completions->set_ready_callback({});
          self->quit(std::move(exit.reason));
        });
        return {
            [=](pull_atom) {
              acks_answered(self);
              pull(self);
            },
            [=](const IntakePause& pause) { set_paused(self, pause.paused); },
            [=](held_tick_atom, std::uint64_t generation) {
              auto& state = self->state;
              if (!state.paused || generation != state.pause_generation) return;
              show_held(self);
              refresh_held_later(self);
            },
            [=](GapSweep) {
              self->state.gap_sweep_armed = false;
              sweep_gaps(self, false);
            },
            [=](flush_atom) {
              // Cleared here only: a batch's own flush in between leaves this message due, and
              // nothing needs a second one.
              self->state.flush_scheduled = false;
              flush_pending_acks(self);
              notify_if_idle(self);
            },
            [=](AckRecords& done) {
              acks_answered(self);
              acknowledge(self, done);
              notify_if_idle(self);
            },
            [=](AckTick) {
              self->state.ack_tick_armed = false;
              acks_answered(self);
              count_acks_later(self);
              notify_if_idle(self);
            },
            [=](acks_done_atom) {
              acks_answered(self);
              notify_if_idle(self);
            },
            [=](close_atom) {
              // Hands the client consumer over for closing; nothing is pulled or acked after.
              auto& state = self->state;
              // The stream ends here: what is still jumped over never came.
              sweep_gaps(self, true);
              flush_pending_acks(self);
              if (state.config.consumer) state.config.consumer->set_ready_callback({});
              return CloseRequest{std::move(state.config.consumer), nullptr};
            },
            [=](stop_atom) {
              auto& state = self->state;
              state.intake_open = false;
              if (state.config.consumer) state.config.consumer->set_ready_callback({});
              auto promise = self->make_response_promise<idle_atom>();
              state.idle_waiters.push_back(promise);
              // From now on every answer wakes the actor; what came before is counted here.
              state.wake_on_ack->store(true);
              acks_answered(self);
              notify_if_idle(self);
              return promise;
            },
        };
      },
      std::move(config));
}

}  // namespace danube::runtime
