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

#include "danube/DanubeApi.grpc.pb.h"
#include "danube/client/client.hpp"
#include "danube/client/options.hpp"
#include "danube/client/result.hpp"
#include "retry_backoff.hpp"
#include "scheduler.hpp"
#include "service_url.hpp"

namespace danube::client::detail {

// What every producer, consumer and registry call of one DanubeClient shares: options,
// credentials, the channel per broker address, the token source, the schedulers and lookups.
class ClientCore : public std::enable_shared_from_this<ClientCore> {
 public:
  static Result<std::shared_ptr<ClientCore>> create(ClientOptions options);
  ~ClientCore();

  const ClientOptions& options() const { return options_; }
  BrokerAddress service_address() const;

  // The channel for a broker URL (with or without scheme), created on first use.
  std::shared_ptr<grpc::Channel> channel(const std::string& url);
  std::shared_ptr<grpc::Channel> service_channel() { return channel(options_.service_url); }

  // Deadline, authorization and proxy headers for one call. `address` may be null (service URL).
  void prepare(grpc::ClientContext& context, const BrokerAddress* address,
               std::chrono::milliseconds timeout) const;
  void prepare(grpc::ClientContext& context, const BrokerAddress* address) const {
    prepare(context, address, options_.request_timeout);
  }

  // Discovery. lookup_topic reports errors; resolve_topic falls back to the service URL on any
  // lookup failure, as Danube's clients do, so a producer's first CreateProducer on an unknown
  // topic reaches a broker that can auto-create it.
  Result<BrokerAddress> lookup_topic(const std::string& topic);
  BrokerAddress resolve_topic(const std::string& topic);
  Result<std::vector<std::string>> topic_partitions(const std::string& topic);

  // Waits up to options().connect_timeout for `channel` to be connected; UNAVAILABLE (which
  // callers retry) naming the broker when it is not.
  // `cancelled`, when given, is polled so a closing caller need not wait out the timeout.
  grpc::Status await_connection(grpc::Channel& channel, const std::string& url,
                                const std::function<bool()>& cancelled = {});

  // Runs a blocking call until it succeeds, fails with a non-retryable status, or the retry
  // budget is spent. Each attempt first waits for a connection (connect_timeout), then gets a
  // fresh, prepared context (request_timeout).
  grpc::Status call_with_retries(const std::string& what, const BrokerAddress* address,
                                 const std::function<grpc::Status(grpc::ClientContext&)>& call);

  std::uint64_t next_request_id() { return next_request_id_.fetch_add(1, std::memory_order_relaxed); }
  RetryBackoff& backoff() { return backoff_; }
  Scheduler& timers() { return timers_; }
  Scheduler& control() { return control_; }

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

  mutable std::mutex channels_mutex_;
  std::map<std::string, std::shared_ptr<grpc::Channel>> channels_;  // by host:port

  std::atomic<std::uint64_t> next_request_id_{1};
  RetryBackoff backoff_;
  // Declared last: destroyed first, so no task runs against a half-destroyed core.
  Scheduler control_{"danube-client-control"};
  Scheduler timers_{"danube-client-timers"};
};

// "CreateProducer /default/t: unavailable ..." from a gRPC status.
Error to_error(const std::string& what, const grpc::Status& status);

// The codes Danube's clients retry: UNAVAILABLE, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED.
inline bool is_retryable_code(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE || code == grpc::StatusCode::DEADLINE_EXCEEDED ||
         code == grpc::StatusCode::RESOURCE_EXHAUSTED;
}

}  // namespace danube::client::detail
