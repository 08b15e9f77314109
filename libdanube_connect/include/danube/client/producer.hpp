#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <string>

#include "danube/client/message.hpp"
#include "danube/client/result.hpp"

namespace danube::client {

namespace detail {
class ProducerCore;
}

using SendCallback = std::function<void(Result<SendReceipt>)>;

struct ProducerStats {
  std::uint64_t sent = 0;        // acknowledged by the broker
  std::uint64_t failed = 0;      // reported to the caller as errors
  std::uint64_t retried = 0;     // send attempts repeated after a retryable error
  std::uint64_t recreated = 0;   // partition producers created again (broker restart, CLOSE)
};

// Publishes to one topic (or its partitions). Thread-safe. Sends are pipelined: up to
// max_in_flight SendMessage calls run at once (one per partition in strict ordering).
// Retryable failures are retried with backoff; after the retry budget, or when the broker no
// longer knows the producer, it is looked up and created again and the message is resent.
class Producer {
 public:
  explicit Producer(std::shared_ptr<detail::ProducerCore> core);
  // close() with a short drain; then waits (bounded) until no thread of the client runs code
  // of this producer, or of the client when this was its last user.
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  const std::string& topic() const;
  const std::string& name() const;
  std::size_t partitions() const;  // 1 for a non-partitioned topic

  // Queues a message. The callback runs exactly once, on a client thread, with the outcome;
  // keep it short and non-blocking. Blocks while max_pending messages are already pending.
  void send_async(OutgoingMessage message, SendCallback callback);
  std::future<Result<SendReceipt>> send(OutgoingMessage message);

  // Waits until every message sent so far has an outcome; false on timeout.
  bool flush(std::chrono::milliseconds timeout);
  std::size_t pending() const;  // queued plus in flight
  ProducerStats stats() const;

  // Stops accepting messages, waits up to drain_timeout for pending ones, then cancels the
  // rest (their callbacks report a cancelled error) and any producer re-creation under way,
  // and returns once no callback of this producer runs. Idempotent. Called from one of this
  // client's callbacks (a callback cannot wait for itself), it returns at once and the
  // producer closes on a thread of the client.
  void close(std::chrono::milliseconds drain_timeout = std::chrono::seconds(5));

 private:
  std::shared_ptr<detail::ProducerCore> core_;
};

}  // namespace danube::client
