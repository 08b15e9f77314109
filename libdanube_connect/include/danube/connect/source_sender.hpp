#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <vector>

#include "danube/common/send_status.hpp"
#include "danube/connect/source_record.hpp"

namespace danube::connect {

using danube::SendStatus;

// Where a streaming source's records go. The runtime implements it with a bounded queue that
// an actor drains; tests can use connect::testing::RecordingSourceChannel.
class SourceChannel {
 public:
  virtual ~SourceChannel() = default;

  // Blocks while the channel is full; `closed` once the runtime stopped taking records.
  virtual SendStatus send(SourceEnvelope envelope) = 0;
  // Like send(), but gives up (`timed_out`) after `timeout`.
  virtual SendStatus send_for(SourceEnvelope envelope, std::chrono::milliseconds timeout) = 0;
  virtual bool is_closed() const = 0;
};

// The handle a streaming source emits records through. Copy it freely (to several threads).
class SourceSender {
 public:
  explicit SourceSender(std::shared_ptr<SourceChannel> channel) : channel_(std::move(channel)) {}

  // Blocks while the runtime is full (backpressure). Returns false once the runtime has
  // closed the channel: the source should then stop producing.
  bool send(SourceEnvelope envelope) const;
  // Like send, but gives up after `timeout` so the caller can check its own stop conditions.
  SendStatus send_for(SourceEnvelope envelope, std::chrono::milliseconds timeout) const;
  // Sends in order; returns how many were sent before the channel closed.
  std::size_t send_batch(std::vector<SourceEnvelope> envelopes) const;
  // Like send(), but throws ConnectorError(fatal) "failed to emit source envelope: channel
  // closed" instead of returning false (the seed's behaviour).
  void send_or_throw(SourceEnvelope envelope) const;
  bool is_closed() const;

 private:
  std::shared_ptr<SourceChannel> channel_;
};

}  // namespace danube::connect
