#pragma once

#include <caf/fwd.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "../common/connector_failure.hpp"
#include "../common/dead_letter_router_actor.hpp"
#include "../common/runtime_atoms.hpp"
#include "../common/runtime_context.hpp"
#include "danube/common/backoff.hpp"
#include "inflight_record.hpp"
#include "sink_worker_actor.hpp"

namespace danube::runtime {

// consumer -> dispatcher. `drained`: the consumer has nothing more to hand over right now (its
// client buffer is empty, or its credit is used up), so waiting for a fuller batch would only
// add latency — and with a broker's unacked-message window it would stall the sink.
struct RecordBatch {
  std::size_t source = 0;
  std::vector<InflightRecord> records;
  bool drained = true;
};

namespace dispatcher_detail {
struct RetryDue;  // a source's backoff has elapsed
}  // namespace dispatcher_detail

// What the dispatcher needs of the sink worker.
using batch_processor_actor = caf::typed_actor<caf::reacts_to<ProcessRequest>>;

// Between the consumer actors and the sink worker: it batches records and decides the fate of
// every record the worker processed.
//
// Batching: one batch in process at a time (the connector is called sequentially), the next
// one filling meanwhile. A batch goes out when it has batch_size records (or batch_bytes), when
// its oldest record has waited `linger`, or as soon as no consumer has more records at hand —
// so a quiet topic or a broker's unacked-message window never makes records wait for the
// linger time. Sources (partition subscriptions) take turns, each in order.
//
// Outcomes:
//   processed            -> ack (AckRecords to its owner)
//   deferred             -> handed over again with its source's retries (no attempt counted)
//   retryable            -> retried after a backoff with jitter, up to [retry] max_retries;
//                           its source is held back meanwhile, so no record overtakes an
//                           earlier one of its partition
//   invalid data, other  -> the [dead_letter] policy: dead_letter (publish, then ack),
//   or retries exhausted    skip (count, ack) or fail (fatal)
//   fatal, configuration -> ConnectorFailed to the supervisor (the record stays unacked)
//
//   RecordBatch         new records (from consumers)
//   ProcessOutcome      the worker's outcome of the batch in process
//   drain_all_atom      flush everything now, ignoring the linger time
//   (self) flush_atom + timer generation, RetryDue
using dispatcher_actor =
    outcome_listener_actor::extend<caf::reacts_to<RecordBatch>, caf::reacts_to<drain_all_atom>,
                                   caf::reacts_to<flush_atom, std::uint64_t>,
                                   caf::reacts_to<dispatcher_detail::RetryDue>>;

struct DispatcherConfig {
  ContextPtr context;
  std::size_t batch_size = 1000;           // flush at this many records
  std::size_t batch_bytes = 8 << 20;       // ... or this many bytes
  std::chrono::milliseconds linger{1000};  // ... or when the oldest record waited this long
  std::shared_ptr<Backoff> backoff;        // [retry]: delays and max_retries
  batch_processor_actor worker;
  dead_letter_sink_actor dead_letter_router;
  failure_listener_actor supervisor;  // told about fatal failures
  std::uint64_t incarnation = 0;      // stamped on them
};

dispatcher_actor spawn_dispatcher(caf::actor_system& system, DispatcherConfig config);

}  // namespace danube::runtime

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(danube::runtime::RecordBatch)
