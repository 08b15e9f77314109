#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <memory>

#include "../common/runtime_context.hpp"
#include "danube/common/backoff.hpp"

namespace danube::runtime {

struct RetrySupervisorConfig {
  ContextPtr context;
  std::shared_ptr<Backoff> backoff;  // [retry]: delays and max_retries
  caf::actor dead_letter_router;
  caf::actor supervisor;          // told about fatal failures
  std::uint64_t incarnation = 0;  // stamped on them
};

// Decides the fate of every record of a processed batch:
//   processed            -> ack (AckRecords to its consumer actor)
//   deferred             -> handed over again with its source's retries (no attempt counted)
//   retryable            -> retried after a backoff with jitter, up to [retry] max_retries;
//                           its source is held back in the batcher meanwhile (order)
//   invalid data, other  -> the [dead_letter] policy: dead_letter (publish, then ack),
//   or retries exhausted    skip (count, ack) or fail (fatal)
//   fatal, configuration -> ConnectorFailed to the supervisor (the record stays unacked)
//
//   ProcessOutcome   from the worker
caf::actor spawn_retry_supervisor(caf::actor_system& system, RetrySupervisorConfig config);

}  // namespace danube::runtime
