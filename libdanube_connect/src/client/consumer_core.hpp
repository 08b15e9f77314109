#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "client_core.hpp"
#include "consumer_counters.hpp"
#include "danube/client/consumer.hpp"
#include "partition_reader.hpp"
#include "receive_buffer.hpp"

namespace danube::client::detail {

// The shared state behind a Consumer: one PartitionReader per partition, the receive buffer,
// the pipelined ack/nack calls and the periodic health checks.
class ConsumerCore : public std::enable_shared_from_this<ConsumerCore> {
 public:
  static Result<std::shared_ptr<ConsumerCore>> create(std::shared_ptr<ClientCore> client,
                                                      ConsumerOptions options);
  ~ConsumerCore();

  const ConsumerOptions& options() const { return options_; }
  std::vector<std::string> partitions() const;
  ReceiveBuffer& buffer() { return buffer_; }

  void acknowledge(bool positive, std::uint64_t request_id, const MessageId& id,
                   std::optional<std::chrono::milliseconds> delay, std::optional<std::string> reason,
                   AckCallback callback);
  bool flush_acks(std::chrono::milliseconds timeout);
  ConsumerStats stats() const;
  void close();

 private:
  struct AckCall;

  ConsumerCore(std::shared_ptr<ClientCore> client, ConsumerOptions options);

  std::vector<std::shared_ptr<AckCall>> take_startable_locked();
  void start_calls(std::vector<std::shared_ptr<AckCall>> calls);
  void start_call(const std::shared_ptr<AckCall>& call);
  void on_call_done(const std::shared_ptr<AckCall>& call, const grpc::Status& status);
  void schedule_health_check();
  void run_health_check();

  std::shared_ptr<ClientCore> client_;
  const ConsumerOptions options_;
  ConsumerCounters counters_;
  ReceiveBuffer buffer_;
  std::vector<std::unique_ptr<PartitionReader>> readers_;
  std::map<std::string, std::size_t> reader_by_topic_;

  mutable std::mutex mutex_;
  std::condition_variable acks_changed_;
  std::deque<std::shared_ptr<AckCall>> queued_acks_;
  std::size_t acks_in_flight_ = 0;  // calls running or waiting for a retry timer
  std::size_t calls_settling_ = 0;  // finished calls whose callback is still running
  std::set<grpc::ClientContext*> active_calls_;
  bool closing_ = false;  // close() has begun: readers stop, acks already issued drain
  bool closed_ = false;   // acks are refused and running ones cancelled
};

}  // namespace danube::client::detail
