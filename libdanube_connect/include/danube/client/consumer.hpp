#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "danube/client/message.hpp"
#include "danube/client/result.hpp"

namespace danube::client {

namespace detail {
class ConsumerCore;
}

using AckCallback = std::function<void(Status)>;

struct ConsumerStats {
  std::uint64_t received = 0;
  std::uint64_t acked = 0;
  std::uint64_t nacked = 0;
  std::uint64_t ack_failures = 0;
  std::uint64_t stream_reopens = 0;  // ReceiveMessages streams opened again after ending
  std::uint64_t resubscribes = 0;    // Subscribe repeated (broker restart, CLOSE, NOT_FOUND)
  std::size_t buffered_messages = 0;
  std::size_t buffered_bytes = 0;
};

// Receives from every partition of a topic into a bounded buffer, and stops reading from the
// broker while it is full (credit-based flow control). The client reads the streams of all its
// consumers' partitions on one thread of its own.
// Acks and nacks are asynchronous and pipelined; receiving never waits for them.
class Consumer {
 public:
  explicit Consumer(std::shared_ptr<detail::ConsumerCore> core);
  // close() with the default drain; then waits (bounded) until no thread of the client runs
  // code of this consumer, or of the client when this was its last user.
  ~Consumer();
  Consumer(const Consumer&) = delete;
  Consumer& operator=(const Consumer&) = delete;

  const std::string& topic() const;
  const std::string& subscription() const;
  std::vector<std::string> partitions() const;  // partition topic names, in subscription order

  // Takes up to max_messages from the buffer, waiting up to `wait` for the first one.
  std::vector<ReceivedMessage> receive(std::size_t max_messages, std::chrono::milliseconds wait);
  // Takes up to max_messages without waiting.
  std::vector<ReceivedMessage> try_receive(std::size_t max_messages);

  // Called, from the client's stream thread, whenever the buffer goes from empty to non-empty (and once
  // right away if it already holds messages), so an event loop can pull without polling.
  // Keep it short and non-blocking. An empty function removes the callback.
  void set_ready_callback(std::function<void()> callback);

  void ack_async(std::uint64_t request_id, const MessageId& id, AckCallback callback = {});
  void ack_async(const ReceivedMessage& message, AckCallback callback = {});
  std::future<Status> ack(const ReceivedMessage& message);
  // Asks for redelivery after max(delay, the broker's backoff). Reliable topics only.
  void nack_async(std::uint64_t request_id, const MessageId& id,
                  std::optional<std::chrono::milliseconds> delay, std::optional<std::string> reason,
                  AckCallback callback = {});

  // Waits until every ack and nack issued so far has completed; false on timeout.
  bool flush_acks(std::chrono::milliseconds timeout);
  ConsumerStats stats() const;

  // Stops the readers (messages still in the buffer stay readable), lets pending acks complete
  // for up to `ack_drain` (the rest are cancelled: their callbacks get ErrorCategory::cancelled),
  // ends the health checks, and returns once no callback of this consumer runs. Idempotent.
  // Called from one of this client's callbacks (a callback cannot wait for itself), it returns
  // at once and the consumer closes on a thread of the client.
  void close(std::chrono::milliseconds ack_drain = std::chrono::seconds(5));

 private:
  std::shared_ptr<detail::ConsumerCore> core_;
};

}  // namespace danube::client
