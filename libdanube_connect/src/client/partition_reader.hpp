#pragma once

#include <grpcpp/grpcpp.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cancellation.hpp"
#include "client_core.hpp"
#include "consumer_counters.hpp"
#include "danube/DanubeApi.grpc.pb.h"
#include "danube/client/options.hpp"
#include "receive_buffer.hpp"

namespace danube::client::detail {

// Where acks, nacks and health checks for one partition subscription go right now.
struct PartitionEndpoint {
  std::uint64_t consumer_id = 0;
  BrokerAddress address;
  std::shared_ptr<Connection> connection;  // null until subscribed
};

// Owns one partition's subscription and the thread that reads its ReceiveMessages stream
// into the consumer's buffer. A stream that ends is reopened; when the broker no longer knows
// the consumer (restart, CLOSE, NOT_FOUND) or the retry budget runs out, it subscribes again.
// The blocking gRPC reads happen on this thread only, never on an application or actor thread.
// stop() cancels whatever the thread waits for (connection, subscribe, lookup, backoff), so it
// returns promptly even while the broker is unreachable.
class PartitionReader {
 public:
  PartitionReader(std::shared_ptr<ClientCore> client, const ConsumerOptions& options,
                  std::string partition_topic, std::size_t index, ReceiveBuffer& buffer,
                  ConsumerCounters& counters);
  ~PartitionReader();  // stop()
  PartitionReader(const PartitionReader&) = delete;
  PartitionReader& operator=(const PartitionReader&) = delete;

  // Subscribes with retries on the caller's thread; the first subscription's errors (missing
  // topic, exclusive conflict) belong to whoever asked for the consumer.
  Status subscribe();
  void start();
  void request_resubscribe();  // the broker said CLOSE: subscribe again on the reader thread
  void stop();                 // cancels the thread's work and joins it; idempotent

  const std::string& topic() const { return topic_; }
  PartitionEndpoint endpoint() const;

 private:
  Status subscribe_once();
  void run();
  bool stopping() const { return stop_.cancelled(); }

  std::shared_ptr<ClientCore> client_;
  const ConsumerOptions& options_;
  const std::string topic_;
  const std::size_t index_;
  ReceiveBuffer& buffer_;
  ConsumerCounters& counters_;

  Cancellation stop_;
  mutable std::mutex mutex_;
  PartitionEndpoint endpoint_;
  grpc::ClientContext* stream_context_ = nullptr;  // the stream to cancel on resubscribe
  bool resubscribe_requested_ = false;
  std::thread thread_;
};

}  // namespace danube::client::detail
