#pragma once

#include <cstdint>
#include <string>

namespace danube::runtime {

// A snapshot of one connector runtime, answered to the status and drain requests.
struct RuntimeStatus {
  std::string connector;
  std::string kind;                 // "sink" or "source"
  std::string state;                // starting, running, draining, restarting, stopped, failed
  std::uint64_t received = 0;       // sink: records taken from the broker; source: records polled
  std::uint64_t processed = 0;      // sink: records the connector processed; source: published
  std::uint64_t failed = 0;         // record failures (each attempt)
  std::uint64_t retried = 0;        // retries scheduled
  std::uint64_t dead_lettered = 0;  // records published to the dead-letter topic
  std::uint64_t skipped = 0;        // records dropped by the skip policy (counted, acked)
  std::uint64_t acked = 0;          // sink: acks the broker confirmed
  std::uint64_t committed = 0;      // source: offsets committed
  std::uint64_t lost = 0;           // sink: offsets the broker skipped (never received)
  std::uint64_t redeliveries_skipped = 0;  // sink: redeliveries of processed records, acked only
  std::uint32_t restarts = 0;              // supervised restarts after fatal failures
  std::string last_error;
  bool complete = true;  // false when the shutdown budget cut the final drain short
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RuntimeStatus& x) {
  return f(x.connector, x.kind, x.state, x.received, x.processed, x.failed, x.retried,
           x.dead_lettered, x.skipped, x.acked, x.committed, x.lost, x.redeliveries_skipped,
           x.restarts, x.last_error, x.complete);
}

}  // namespace danube::runtime
