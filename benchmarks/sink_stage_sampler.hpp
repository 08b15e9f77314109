#pragma once

// Where a sink runtime's messages wait, without instrumenting the runtime: a thread asks the
// runtime for its status (status_atom) every few milliseconds and sets its counters beside the
// number of messages the benchmark has sent. Three queues follow, in messages:
//
//   before intake   sent, not yet taken from the client by a consumer actor (publish call,
//                   broker, delivery stream, reader thread, client buffer, consumer wake-up)
//   in runtime      taken, not yet processed (dispatcher, sink worker hand-over, batches ahead)
//   awaiting ack    processed, ack not yet confirmed by the broker (offsets file, ack call);
//                   with a window of W per partition this is what holds the broker back
//
// By Little's law a queue's mean length divided by the message rate is the mean time spent in
// it. The counts are relative to a baseline taken before the first measured message is sent;
// probes still in flight then make `before intake` read up to a few messages low.
#include <algorithm>
#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <thread>

#include "danube/runtime/embedding.hpp"

namespace danube::bench {

struct StageQueues {
  double before_intake_mean = 0, in_runtime_mean = 0, awaiting_ack_mean = 0;
  std::int64_t before_intake_max = 0, in_runtime_max = 0, awaiting_ack_max = 0;
  std::size_t samples = 0;  // status answers used
};

class SinkStageSampler {
 public:
  // `sent` counts the messages the benchmark has sent since the baseline; sampling counts once
  // `sent` reaches `from` (the end of the warm-up).
  SinkStageSampler(caf::actor_system& system, runtime::connector_actor sink,
                   const std::atomic<std::size_t>& sent, std::size_t from)
      : system_(system), sink_(std::move(sink)), sent_(sent), from_(from) {
    baseline_ = ask().value_or(runtime::RuntimeStatus{});
    thread_ = std::thread([this] { run(); });
  }
  ~SinkStageSampler() { stop(); }
  SinkStageSampler(const SinkStageSampler&) = delete;
  SinkStageSampler& operator=(const SinkStageSampler&) = delete;

  void stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  // Read after stop().
  StageQueues queues() const {
    StageQueues result = totals_;
    if (result.samples > 0) {
      const auto n = static_cast<double>(result.samples);
      result.before_intake_mean /= n;
      result.in_runtime_mean /= n;
      result.awaiting_ack_mean /= n;
    }
    return result;
  }

 private:
  std::optional<runtime::RuntimeStatus> ask() {
    caf::scoped_actor self{system_};
    return ask(self);
  }

  std::optional<runtime::RuntimeStatus> ask(caf::scoped_actor& self) {
    std::optional<runtime::RuntimeStatus> status;
    self->request(sink_, std::chrono::seconds(1), runtime::status_atom::value)
        .receive([&](const runtime::RuntimeStatus& answer) { status = answer; },
                 [](const caf::error&) {});
    return status;
  }

  // Every 20 ms: 50 status requests a second, two actor messages each, against the two
  // thousand or more a second the sink itself exchanges at 1 000 records/s.
  void run() {
    caf::scoped_actor self{system_};
    while (!stop_) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a sampling period
      const auto sent = static_cast<std::int64_t>(sent_.load());
      if (static_cast<std::size_t>(sent) < from_) continue;
      const auto status = ask(self);
      if (!status) continue;
      const auto received = static_cast<std::int64_t>(status->received - baseline_.received);
      const auto processed = static_cast<std::int64_t>(status->processed - baseline_.processed);
      const auto acked = static_cast<std::int64_t>(status->acked - baseline_.acked);
      add(totals_.before_intake_mean, totals_.before_intake_max, sent - received);
      add(totals_.in_runtime_mean, totals_.in_runtime_max, received - processed);
      add(totals_.awaiting_ack_mean, totals_.awaiting_ack_max, processed - acked);
      ++totals_.samples;
    }
  }

  static void add(double& sum, std::int64_t& max, std::int64_t value) {
    value = std::max<std::int64_t>(value, 0);
    sum += static_cast<double>(value);
    max = std::max(max, value);
  }

  caf::actor_system& system_;
  runtime::connector_actor sink_;
  const std::atomic<std::size_t>& sent_;
  const std::size_t from_;
  runtime::RuntimeStatus baseline_;
  StageQueues totals_;  // sums until queues() divides them
  std::atomic<bool> stop_ = false;
  std::thread thread_;
};

}  // namespace danube::bench
