#pragma once

// Turns the runtime's offset commits into per-request acknowledgements.
//
// Every record of a reliable endpoint carries an Offset of one partition ("webhook") whose
// values grow with the order in which records enter the runtime's channel. The runtime commits
// an offset once that record and every tracked record before it is settled (published, or
// dead-lettered per [dead_letter] policy); so a request whose offset is at or below the
// committed value is settled, and the HTTP thread waiting for it may answer 2xx.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>

#include "danube/connect/source_sender.hpp"

namespace danube::webhook {

inline constexpr const char* kOffsetPartition = "webhook";

class AckTracker {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Outcome { acknowledged, timed_out, stopped };

  // (Re)starts tracking after `highest_committed` (the highest value in the resume offsets):
  // new offsets are above it and above every offset handed out before. Ends a stop().
  void start(std::uint64_t highest_committed);

  struct Sent {
    connect::SendStatus status = connect::SendStatus::timed_out;
    std::uint64_t offset = 0;
  };
  // Calls `send` with the next offset while holding the order lock, so that offsets reach the
  // channel in increasing order whatever the number of HTTP threads. Gives up (timed_out)
  // when the lock is not free before `deadline`; `send` should respect it too.
  Sent send_in_order(Clock::time_point deadline,
                     const std::function<connect::SendStatus(std::uint64_t offset)>& send);

  // From the connector's commit(): everything up to `value` is settled.
  void committed(std::uint64_t value);
  std::uint64_t committed_value() const;

  // Blocks until `offset` is committed, `deadline` passes or stop() is called.
  Outcome wait(std::uint64_t offset, Clock::time_point deadline);

  // Wakes every waiter with `stopped`, and makes later waits return it at once: the runtime
  // is going away (or restarting) and will not commit what it holds now.
  void stop();

 private:
  std::timed_mutex send_order_;
  std::uint64_t next_offset_ = 1;  // guarded by send_order_

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::uint64_t committed_ = 0;
  bool stopped_ = true;  // until start()
};

}  // namespace danube::webhook
