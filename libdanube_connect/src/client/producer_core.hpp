#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <stop_token>
#include <string>
#include <vector>

#include "cancellation.hpp"
#include "client_core.hpp"
#include "danube/DanubeApi.grpc.pb.h"
#include "danube/client/producer.hpp"

namespace danube::client::detail {

// The shared state behind a Producer. Messages wait in a FIFO per partition and are sent with
// gRPC's callback API; a "slot" is one SendMessage in flight (or waiting to be retried, which
// holds the slot so a strict partition cannot let a later message overtake a retried one).
//
// Locking: one mutex per producer, never held while calling gRPC or user callbacks.
//
// Completion handlers hold the core only while they run and drop it before they return, under
// a ReleaseRestriction, so a core whose last owner goes away there is destroyed on the
// client's control thread (CoreDeleter), never on a gRPC thread.
class ProducerCore : public std::enable_shared_from_this<ProducerCore> {
 public:
  // `stop` cancels the lookups and producer creations of the creation.
  static Result<std::shared_ptr<ProducerCore>> create(std::shared_ptr<ClientCore> client,
                                                      ProducerOptions options,
                                                      std::stop_token stop);
  ~ProducerCore();

  ClientCore& owning_client() { return *client_; }  // for CoreDeleter

  const ProducerOptions& options() const { return options_; }
  std::size_t partition_count() const { return partitions_.size(); }

  void send_async(OutgoingMessage message, SendCallback callback);
  bool flush(std::chrono::milliseconds timeout);
  std::size_t pending() const;
  ProducerStats stats() const;
  void close(std::chrono::milliseconds drain_timeout);

 private:
  struct Send;
  struct Partition {
    std::string topic;
    std::string producer_name;
    std::uint64_t producer_id = 0;
    BrokerAddress address;
    std::shared_ptr<Connection> connection;
    std::deque<std::shared_ptr<Send>> queue;
    std::size_t in_flight = 0;  // slots held: calls running or waiting for a retry timer
    bool ready = false;         // false while (re)creating
    bool recreating = false;
    std::uint64_t next_request_id = 1;
  };

  ProducerCore(std::shared_ptr<ClientCore> client, ProducerOptions options);

  Status create_partition(std::size_t index);  // blocking: lookup + CreateProducer with retries
  Status resolve_schema();

  std::size_t choose_partition(const OutgoingMessage& message);
  // Takes slots for queued messages and returns the sends to start (outside the lock).
  std::vector<std::shared_ptr<Send>> take_startable_locked();
  void start_sends(std::vector<std::shared_ptr<Send>> sends);
  void start_send(const std::shared_ptr<Send>& send);
  void on_send_done(const std::shared_ptr<Send>& send, const grpc::Status& status);
  void schedule_retry(const std::shared_ptr<Send>& send, std::uint32_t attempt);
  void request_recreate_locked(std::size_t partition);
  void recreate(std::size_t partition);
  void fail_queued_locked(std::size_t partition, const Error& error,
                          std::vector<std::pair<SendCallback, Error>>& failures);
  void finish(std::vector<std::pair<SendCallback, Error>> failures);
  void settled(std::size_t count);
  void schedule_health_check();
  void run_health_check();

  std::shared_ptr<ClientCore> client_;
  ProducerOptions options_;
  std::optional<std::uint64_t> schema_id_;
  std::optional<std::uint32_t> schema_version_;

  mutable std::mutex mutex_;
  std::condition_variable changed_;  // pending count fell, or closing
  std::vector<Partition> partitions_;
  std::size_t in_flight_total_ = 0;
  std::size_t pending_total_ = 0;  // queued + slots + outcomes whose callback is running
  std::uint64_t round_robin_ = 0;
  std::size_t pump_cursor_ = 0;
  bool closing_ = false;
  bool closed_ = false;
  std::set<grpc::ClientContext*> active_calls_;
  std::set<std::shared_ptr<Send>> waiting_for_retry_;  // hold slots until their timer fires
  std::size_t probes_running_ = 0;  // health checks whose completion has not run yet
  ProducerStats stats_;
  Cancellation stop_;  // ends a re-creation under way when the producer closes
};

}  // namespace danube::client::detail
