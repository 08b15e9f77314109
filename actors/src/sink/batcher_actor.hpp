#pragma once

#include <caf/actor.hpp>
#include <caf/fwd.hpp>
#include <chrono>
#include <cstddef>

namespace danube::runtime {

struct BatcherConfig {
  std::size_t batch_size = 1000;           // flush at this many records
  std::size_t batch_bytes = 8 << 20;       // ... or this many bytes
  std::chrono::milliseconds linger{1000};  // ... or when the oldest record waited this long
  caf::actor worker;                       // gets ProcessRequest
  caf::actor retry_supervisor;             // gets the ProcessOutcome (via the worker)
};

// Collects records from the consumer actors into batches for the sink worker: one batch in
// process at a time (the connector is called sequentially), the next one filling meanwhile.
// A batch goes out when it has batch_size records (or batch_bytes), when its oldest record has
// waited `linger`, or as soon as no consumer has more records at hand — so a quiet topic or a
// broker's unacked-message window never makes records wait for the linger time.
// A source (partition subscription) whose record waits for a retry is held back until the
// retry is requeued, so no record overtakes an earlier one of its partition.
//
//   RecordBatch      new records (from consumers)
//   BatchSettled     the last batch is dealt with; hold these sources back
//   Requeue          records to retry, ahead of anything newer of their source
//   drain_all_atom   flush everything now, ignoring the linger time
caf::actor spawn_batcher(caf::actor_system& system, BatcherConfig config);

}  // namespace danube::runtime
