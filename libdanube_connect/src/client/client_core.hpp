#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cancellation.hpp"
#include "danube/DanubeApi.grpc.pb.h"
#include "danube/SchemaRegistry.grpc.pb.h"
#include "danube/client/client.hpp"
#include "danube/client/options.hpp"
#include "danube/client/result.hpp"
#include "danube/common/backoff.hpp"
#include "scheduler.hpp"
#include "service_url.hpp"
#include "stream_loop.hpp"

namespace danube::client::detail {

// One broker connection and the stubs every call on it shares (stubs are thread-safe, and
// making one per call costs more than the call's own bookkeeping).
struct Connection {
  explicit Connection(std::shared_ptr<grpc::Channel> channel);

  std::shared_ptr<grpc::Channel> channel;
  danube::ProducerService::Stub producer;
  danube::ConsumerService::Stub consumer;
  danube::Discovery::Stub discovery;
  danube::HealthCheck::Stub health;
  danube_schema::SchemaRegistry::Stub schema_registry;
};

// What every producer, consumer and registry call of one DanubeClient shares: options,
// credentials, the connection per broker address, the token source, the schedulers and lookups.
//
// Lifetime: connections live as long as the core, so a completion handler never releases the
// last reference to a channel. The core itself, and the consumer and producer cores that own
// it, are released on a thread of ours when their last owner goes away on a gRPC thread
// (release_guard.hpp).
class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  static Result<std::shared_ptr<ClientCore>> create(ClientOptions options);
  ~ClientCore();

  const ClientOptions& options() const { return options_; }
  BrokerAddress service_address() const;
  ClientCore& owning_client() { return *this; }  // for CoreDeleter

  // The connection for a broker URL (with or without scheme), created on first use.
  std::shared_ptr<Connection> connection(const std::string& url);
  std::shared_ptr<Connection> service_connection() { return connection(options_.service_url); }

  // Deadline, authorization and proxy headers for one call. `address` may be null (service URL).
  void prepare(grpc::ClientContext& context, const BrokerAddress* address,
               std::chrono::milliseconds timeout) const;
  void prepare(grpc::ClientContext& context, const BrokerAddress* address) const {
    prepare(context, address, options_.request_timeout);
  }

  // Discovery. lookup_topic reports errors; resolve_topic falls back to the service URL on any
  // lookup failure, as Danube's clients do, so a producer's first CreateProducer on an unknown
  // topic reaches a broker that can auto-create it. A cancelled `cancel` ends them at once.
  Result<BrokerAddress> lookup_topic(const std::string& topic,
                                     const Cancellation* cancel = nullptr);
  BrokerAddress resolve_topic(const std::string& topic, const Cancellation* cancel = nullptr);
  Result<std::vector<std::string>> topic_partitions(const std::string& topic,
                                                    const Cancellation* cancel = nullptr);

  // Waits up to options().connect_timeout for `channel` to be connected; UNAVAILABLE (which
  // callers retry) naming the broker when it is not, CANCELLED when `cancel` fires first.
  grpc::Status await_connection(grpc::Channel& channel, const std::string& url,
                                const Cancellation* cancel = nullptr);

  // Runs a blocking call until it succeeds, fails with a non-retryable status, or the retry
  // budget is spent. Each attempt first waits for a connection (connect_timeout), then gets a
  // fresh, prepared context (request_timeout). `cancel` stops the wait, the call and the
  // pauses between attempts.
  grpc::Status call_with_retries(
      const std::string& what, const BrokerAddress* address,
      const std::function<grpc::Status(grpc::ClientContext&, Connection&)>& call,
      const Cancellation* cancel = nullptr);

  std::uint64_t next_request_id() {
    return next_request_id_.fetch_add(1, std::memory_order_relaxed);
  }
  Backoff& backoff() { return backoff_; }
  Scheduler& timers() { return timers_; }
  Scheduler& control() { return control_; }
  StreamLoop& streams() { return streams_; }

  bool wait_for_connection(std::chrono::milliseconds timeout);
  bool is_connected();

 private:
  ClientCore(ClientOptions options, ServiceUrl service_url,
             std::shared_ptr<grpc::ChannelCredentials> tls_credentials, std::string file_token);

  std::string current_token() const;

  ClientOptions options_;
  ServiceUrl service_url_;
  std::shared_ptr<grpc::ChannelCredentials> tls_credentials_;  // null: plaintext unless https
  std::string file_token_;

  mutable std::mutex connections_mutex_;
  std::map<std::string, std::shared_ptr<Connection>> connections_;  // by host:port

  std::atomic<std::uint64_t> next_request_id_{1};
  Backoff backoff_;
  // Every consumer's streams have finished before the core goes: it may go before the schedulers.
  StreamLoop streams_{"danube-streams"};
  // Declared last: destroyed first, so no task runs against a half-destroyed core.
  Scheduler control_{"danube-control"};
  Scheduler timers_{"danube-timers"};
};

// "CreateProducer /default/t: unavailable ..." from a gRPC status.
Error to_error(const std::string& what, const grpc::Status& status);

// The codes Danube's clients retry: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED.
inline bool is_retryable_code(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

}  // namespace danube::client::detail
