#pragma once

// The typed messages the runtime's actors exchange. They never leave the process, so they are
// declared local (CAF_ALLOW_UNSAFE_MESSAGE_TYPE) instead of serializable.
//
// Every actor is spawned with its configuration passed as spawn arguments, never captured
// alone: CAF 0.17 dereferences a null argument tuple when a function is spawned without
// arguments, undefined behaviour that UBSan rightly reports.

#include <caf/all.hpp>
#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "danube/client/message.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/consumer_config.hpp"
#include "danube/connect/error.hpp"
#include "danube/connect/error_type.hpp"
#include "danube/connect/producer_config.hpp"
#include "danube/connect/sink_record.hpp"
#include "danube/connect/source_connector.hpp"
#include "danube/connect/source_record.hpp"
#include "danube/services/envelope_channel.hpp"
#include "danube/services/schema_registrar.hpp"

namespace danube::client {
class Consumer;
class Producer;
}  // namespace danube::client

namespace danube::runtime {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

// Atoms (at most 10 characters each).
using pull_atom = caf::atom_constant<caf::atom("pull")>;    // pull records from a client buffer
using flush_atom = caf::atom_constant<caf::atom("flush")>;  // batcher: linger timer fired
using drain_all_atom =
    caf::atom_constant<caf::atom("drainall")>;              // flush everything now, ignore linger
using stop_atom = caf::atom_constant<caf::atom("stop")>;    // stop intake
using probe_atom = caf::atom_constant<caf::atom("probe")>;  // run connector.health_check()
using tick_atom = caf::atom_constant<caf::atom("tick")>;    // periodic timer
using init_atom = caf::atom_constant<caf::atom("init")>;
using shutdown_atom = caf::atom_constant<caf::atom("shutdown")>;  // call connector.shutdown()
using idle_atom = caf::atom_constant<caf::atom("idle")>;          // reply: nothing left in flight
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using timeout_atom = caf::atom_constant<caf::atom("timeout")>;
using poll_atom = caf::atom_constant<caf::atom("poll")>;
using readable_atom = caf::atom_constant<caf::atom("readable")>;  // an envelope channel has data
using close_atom = caf::atom_constant<caf::atom("close")>;
using reset_atom = caf::atom_constant<caf::atom("reset")>;  // health monitor: a new pipeline runs
// -> the runtime's long-lived actors (connector, broker I/O, dead-letter router, health monitor)
using children_atom = caf::atom_constant<caf::atom("children")>;

// How far a failed record got before it failed: a dead-letter attribute.
enum class FailureStage { decode, process, publish };
std::string_view to_string(FailureStage stage);

// A received message on its way through a sink: the message, the record the worker decodes
// from it (once, on the connector's thread, since a schema lookup may block), and what is
// needed to ack it and to report its failures.
struct InflightRecord {
  client::ReceivedMessage message;  // payload moved into `record` once decoded
  std::optional<connect::SinkRecord> record;
  std::string topic;  // the logical topic of the subscription
  std::optional<std::string> expected_schema_subject;
  FailureStage stage = FailureStage::process;  // where the last failure happened
  caf::actor owner;        // the consumer actor that acks it and owns its credit
  std::size_t source = 0;  // ordering key: index of the owner (one partition subscription)
  std::size_t bytes = 0;
  std::uint32_t attempts = 0;  // failed process attempts so far
  WallClock::time_point first_failure{};
  WallClock::time_point last_failure{};
  Clock::time_point received_at{};
  // Continuity bookkeeping of the owner (PartitionContinuity): the message's identity digest,
  // taken before the payload moves into `record`, and the offset sequence it arrived in.
  std::uint64_t identity_digest = 0;
  std::uint64_t continuity_epoch = 0;
  // Its place in the owner's sink buffer, when it came from one: finishing it marks it done
  // there instead of acking it (the broker was acked when it was buffered).
  std::optional<std::uint64_t> buffer_sequence;
};

// consumer -> batcher. `drained`: the consumer has nothing more to hand over right now (its
// client buffer is empty, or its credit is used up), so waiting for a fuller batch would only
// add latency — and with a broker's unacked-message window it would stall the sink.
struct RecordBatch {
  std::size_t source = 0;
  std::vector<InflightRecord> records;
  bool drained = true;
};

struct ProcessRequest {
  std::uint64_t batch_id = 0;
  std::vector<InflightRecord> records;
  caf::actor outcome_to;  // the retry supervisor of the current pipeline
  caf::actor batcher;     // where settlements and requeues go
};

// worker -> retry supervisor: one outcome per record — processed (no error, not deferred),
// failed (an error; when the whole call failed, every record carries that error) or deferred
// (not attempted, to be handed over again behind its partition's retries).
struct ProcessOutcome {
  std::uint64_t batch_id = 0;
  caf::actor batcher;
  std::vector<InflightRecord> records;
  std::vector<std::optional<connect::ConnectorError>> errors;
  std::vector<bool> deferred;
  std::chrono::duration<double> elapsed{};
};

// retry supervisor -> batcher after each outcome: which ordering keys must wait for a retry.
struct BatchSettled {
  std::vector<std::size_t> blocked_sources;
};

// retry supervisor -> batcher when a retry is due: goes to the front of its source's queue.
struct Requeue {
  std::size_t source = 0;
  std::vector<InflightRecord> records;
};

// -> consumer actor: these records are done (processed, dead-lettered or skipped): ack them and
// release their credit.
struct AckRecords {
  std::vector<InflightRecord> records;
};

// A message for the dead-letter topic, and what to send where once it is published.
struct DeadLetterItem {
  client::OutgoingMessage message;
  std::string origin_topic;  // for metrics
  connect::ErrorType error_type = connect::ErrorType::other;
  caf::actor notify;
  caf::message on_published;
};

struct DeadLetterRequest {
  std::vector<DeadLetterItem> items;
};

// Anything -> supervisor: the connector (or the pipeline) failed fatally. Pipeline actors
// stamp their incarnation, so a failure reported by a pipeline that was already torn down (a
// message still in flight) is not taken for a failure of its successor.
struct ConnectorFailed {
  connect::ConnectorError error;
  std::string where;
  std::uint64_t incarnation = 0;  // 0: not tied to one pipeline incarnation
};

// worker -> supervisor: what initialize() and consumer_configs() gave.
struct SinkInitResult {
  std::vector<connect::ConsumerConfig> configs;
  std::optional<connect::ConnectorError> error;
};

// Health monitor <- worker: the outcome of connector.health_check().
struct HealthReport {
  bool ok = true;
  std::string detail;
};

// Broker I/O requests (blocking client calls run on a detached actor). `stop` ends a
// subscription or producer creation that waits for the broker when its pipeline is torn down
// or the runtime ends, so broker I/O is free again for the closing steps.
struct SubscribeRequest {
  connect::ConsumerConfig config;
  std::stop_token stop;
};
struct PartitionSubscription {
  std::string partition_topic;
  std::shared_ptr<client::Consumer> consumer;
};
struct SubscribeResult {
  std::vector<PartitionSubscription> partitions;
  std::optional<connect::ConnectorError> error;
};
struct CreateProducerRequest {
  connect::ProducerConfig config;  // its schema, when set, is stamped on every message
  std::string producer_name;
  std::stop_token stop;
};
struct CreateProducerResult {
  std::shared_ptr<client::Producer> producer;
  std::optional<connect::ConnectorError> error;
};
// Closing flushes acks or pending sends until `deadline` at the latest; the shutdown budget
// sets it when the runtime ends, the default bounds a close during a restart.
inline constexpr std::chrono::seconds kDefaultCloseBudget{5};
struct CloseRequest {
  std::shared_ptr<client::Consumer> consumer;
  std::shared_ptr<client::Producer> producer;
  Clock::time_point deadline = Clock::now() + kDefaultCloseBudget;
};

// Source side.
struct SourceItem {
  connect::SourceEnvelope envelope;
  std::uint64_t sequence = 0;  // router-assigned, for the offset tracker
  std::uint32_t attempts = 0;  // failed publish attempts so far
  WallClock::time_point first_failure{};
  WallClock::time_point last_failure{};
};
struct SourceBatch {
  std::vector<SourceItem> items;
};
// producer actor / dead-letter router -> router: these sequences are settled (published,
// dead-lettered or skipped); the offset tracker may commit past them.
struct ItemsSettled {
  std::vector<std::uint64_t> sequences;
};
// router -> offset tracker: a new item with its offset.
struct TrackOffsets {
  std::vector<std::pair<std::uint64_t, connect::Offset>> items;  // sequence, offset
};
// offset tracker -> driver: commit these (the newest settled offset per partition).
struct CommitRequest {
  std::vector<connect::Offset> offsets;
};
// driver -> router: polled envelopes.
struct Envelopes {
  std::vector<connect::SourceEnvelope> envelopes;
};
// router -> driver: this many records left the pipeline (credit for more polls).
struct Credit {
  std::size_t records = 0;
  std::size_t read_ahead_limit = 0;  // how many may be outstanding now (PublishPacer)
};
// driver -> supervisor: what initialize(), producer_configs(), mode() and the schema
// registration gave.
struct SourceInitResult {
  std::vector<connect::ProducerConfig> configs;
  connect::SourceMode mode = connect::SourceMode::polling;
  std::map<std::string, services::ProducerSchema> schemas;  // by topic
  std::shared_ptr<services::EnvelopeChannel> channel;       // streaming mode
  std::optional<connect::ConnectorError> error;
};

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::InflightRecord)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::RecordBatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ProcessRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ProcessOutcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::BatchSettled)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::Requeue)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::AckRecords)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::DeadLetterRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ConnectorFailed)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::HealthReport)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SinkInitResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SubscribeRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SubscribeResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CreateProducerRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CreateProducerResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CloseRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SourceBatch)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::ItemsSettled)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::TrackOffsets)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::CommitRequest)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::Envelopes)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::Credit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::SourceInitResult)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::connect::ConnectorConfig)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<danube::connect::ConsumerConfig>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<danube::connect::ProducerConfig>)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::vector<danube::connect::Offset>)
