#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace danube::runtime {

// One logical topic's share of a runtime's work, as its metrics count it (since the process
// started).
struct TopicStatus {
  std::string topic;
  std::uint64_t received = 0;       // sink: taken from the broker; source: from the connector
  std::uint64_t processed = 0;      // sink: processed by the connector; source: published
  std::uint64_t acked = 0;          // sink: acks the broker confirmed
  std::uint64_t failed = 0;         // failed attempts (every error type)
  std::uint64_t retried = 0;        // retries scheduled
  std::uint64_t dead_lettered = 0;  // published to the dead-letter topic
  std::uint64_t lost = 0;           // sink: offsets the broker skipped
  std::uint64_t redeliveries_skipped = 0;  // sink: redeliveries of processed records, acked only
  std::int64_t in_flight = 0;  // sink: handed to the connector, not yet acked; source: taken
                               // from the connector, not yet published, dead-lettered or skipped
  std::uint64_t held = 0;      // sink, while paused: delivered by the broker to this process and
                               // waiting in the client's buffer
};

// A snapshot of one connector runtime, answered to the status, pause, resume and drain
// requests.
struct RuntimeStatus {
  std::string connector;
  std::string kind;  // "sink" or "source"
  // starting, running, paused (running with intake paused), restarting, draining, stopped,
  // failed
  std::string state;
  bool paused = false;              // intake paused (also while starting or restarting)
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
  std::uint64_t held = 0;  // while paused: what waits to be taken (sinks: in the client's buffers;
                           // streaming sources: in the channel from the connector)
  std::uint32_t restarts = 0;           // supervised restarts after fatal failures
  std::string last_error;               // the last fatal failure ("where: what"), empty when none
  std::int64_t last_error_unix_ms = 0;  // when it happened (ms since the epoch), 0 when none
  std::vector<TopicStatus> topics;      // by topic name
  bool complete = true;                 // false when the shutdown budget cut the final drain short
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, TopicStatus& x) {
  return f(x.topic, x.received, x.processed, x.acked, x.failed, x.retried, x.dead_lettered, x.lost,
           x.redeliveries_skipped, x.in_flight, x.held);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, RuntimeStatus& x) {
  return f(x.connector, x.kind, x.state, x.paused, x.received, x.processed, x.failed, x.retried,
           x.dead_lettered, x.skipped, x.acked, x.committed, x.lost, x.redeliveries_skipped, x.held,
           x.restarts, x.last_error, x.last_error_unix_ms, x.topics, x.complete);
}

}  // namespace danube::runtime
