#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <vector>

#include "danube/common/bounded_queue.hpp"
#include "danube/common/send_status.hpp"
#include "danube/connect/source_record.hpp"
#include "danube/connect/source_sender.hpp"

namespace danube::services {

using connect::SourceEnvelope;
using connect::SourceSender;

// The runtime's SourceChannel: a bounded, closable, multi-producer channel of SourceEnvelopes
// between a streaming source's threads and the runtime.
//
// Producers block in send() while the channel is full: that is the backpressure a push source
// feels when the runtime cannot publish fast enough. After close(), sends fail at once (also
// those blocked), while the receiver may still drain what was queued.
class EnvelopeChannel final : public connect::SourceChannel,
                              public std::enable_shared_from_this<EnvelopeChannel> {
 public:
  // `capacity_records` >= 1. `capacity_bytes` bounds the queued payload bytes too (0 = no
  // byte bound); an envelope larger than that bound is still admitted into an empty channel,
  // so a big record cannot block forever.
  static std::shared_ptr<EnvelopeChannel> create(std::size_t capacity_records,
                                                 std::size_t capacity_bytes = 0);

  // Use create(); the key keeps construction behind it while allowing make_shared.
  struct CreateKey {
    explicit CreateKey() = default;
  };
  EnvelopeChannel(CreateKey, std::size_t capacity_records, std::size_t capacity_bytes);

  EnvelopeChannel(const EnvelopeChannel&) = delete;
  EnvelopeChannel& operator=(const EnvelopeChannel&) = delete;

  // A copyable handle for the producing side.
  SourceSender sender();

  // Blocks until there is room or the channel is closed.
  SendStatus send(SourceEnvelope envelope) override;
  // Gives up after `timeout`.
  SendStatus send_for(SourceEnvelope envelope, std::chrono::milliseconds timeout) override;

  // Takes up to `max_count` envelopes without blocking (possibly none).
  std::vector<SourceEnvelope> try_receive(std::size_t max_count);
  // Waits up to `timeout` for at least one envelope, then takes up to `max_count`. Returns
  // empty on timeout, or at once when the channel is closed and drained.
  std::vector<SourceEnvelope> receive_for(std::size_t max_count, std::chrono::milliseconds timeout);

  // Refuses further sends and wakes everyone waiting. Idempotent.
  void close();
  bool is_closed() const override;
  // Closed and nothing left to receive.
  bool is_drained() const;

  // Called (on the sending thread, without locks held) whenever the channel goes from empty
  // to non-empty, and once when it is closed, so an actor can be told to drain it without
  // anyone blocking. It is not called again while envelopes remain queued: the receiver
  // should keep calling try_receive until it returns fewer than it asked for. Setting it when
  // the channel is already non-empty or closed calls it once at once. Must not block.
  void set_readable_callback(std::function<void()> callback);

  std::size_t size() const { return queue_.size(); }
  std::size_t queued_bytes() const { return queue_.bytes(); }
  std::size_t capacity_records() const { return queue_.max_items(); }
  std::size_t capacity_bytes() const { return queue_.max_bytes(); }

  // The size an envelope counts for against `capacity_bytes`: payload, topic, key and
  // attribute bytes.
  static std::size_t envelope_bytes(const SourceEnvelope& envelope);

 private:
  BoundedQueue<SourceEnvelope> queue_;
};

}  // namespace danube::services
