#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <stop_token>
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
//
// Completion handlers hold the core only while they run and drop it before they return, under
// a ReleaseRestriction, so a core whose last owner goes away there is destroyed on the
// client's control thread (CoreDeleter), never on a gRPC thread.
class ConsumerCore : public std::enable_shared_from_this<ConsumerCore> {
 public:
  // `stop` cancels the lookups and subscriptions of the creation (not the consumer's later life).
  static Result<std::shared_ptr<ConsumerCore>> create(std::shared_ptr<ClientCore> client,
                                                      ConsumerOptions options,
                                                      std::stop_token stop);
  ~ConsumerCore();

  ClientCore& owning_client() { return *client_; }  // for CoreDeleter
  const ConsumerOptions& options() const { return options_; }
  std::vector<std::string> partitions() const;
  ReceiveBuffer& buffer() { return buffer_; }
  // Takes from the buffer; a reader that waited for room reads on.
  std::vector<ReceivedMessage> receive(std::size_t max_messages, std::chrono::milliseconds wait);

  void acknowledge(bool positive, std::uint64_t request_id, const MessageId& id,
                   std::optional<std::chrono::milliseconds> delay,
                   std::optional<std::string> reason, AckCallback callback);
  bool flush_acks(std::chrono::milliseconds timeout);
  ConsumerStats stats() const;
  // Stops the readers, lets issued acks finish for up to `ack_drain` (then cancels them and
  // fails the ones waiting for a retry), and returns once no completion handler runs.
  void close(std::chrono::milliseconds ack_drain);

 private:
  struct AckCall;

  ConsumerCore(std::shared_ptr<ClientCore> client, ConsumerOptions options);

  std::vector<std::shared_ptr<AckCall>> take_startable_locked();
  void start_calls(std::vector<std::shared_ptr<AckCall>> calls);
  void start_call(const std::shared_ptr<AckCall>& call);
  void retry_call(const std::shared_ptr<AckCall>& call);
  void on_call_done(const std::shared_ptr<AckCall>& call, const grpc::Status& status);
  void schedule_health_check();
  void run_health_check();

  std::shared_ptr<ClientCore> client_;
  const ConsumerOptions options_;
  ConsumerCounters counters_;
  ReceiveBuffer buffer_;
  std::atomic<std::size_t> paused_readers_{0};  // readers waiting for room in buffer_
  std::vector<std::unique_ptr<PartitionReader>> readers_;
  std::map<std::string, std::size_t> reader_by_topic_;

  mutable std::mutex mutex_;
  std::condition_variable acks_changed_;
  std::deque<std::shared_ptr<AckCall>> queued_acks_;
  std::size_t acks_in_flight_ = 0;  // calls running or waiting for a retry timer
  std::size_t calls_settling_ = 0;  // finished calls whose callback is still running
  std::size_t probes_running_ = 0;  // health checks whose completion has not run yet
  std::set<grpc::ClientContext*> active_calls_;
  std::set<std::shared_ptr<AckCall>> waiting_for_retry_;
  bool closing_ = false;  // close() has begun: readers stop, acks already issued drain
  bool closed_ = false;   // acks are refused and running ones cancelled
};

}  // namespace danube::client::detail
