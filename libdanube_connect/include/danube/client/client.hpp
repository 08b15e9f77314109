#pragma once

#include <memory>
#include <stop_token>
#include <string>
#include <vector>

#include "danube/client/consumer.hpp"
#include "danube/client/options.hpp"
#include "danube/client/producer.hpp"
#include "danube/client/result.hpp"
#include "danube/client/schema_registry.hpp"

namespace danube::client {

namespace detail {
class ClientCore;
}

// Where a topic is served, as a lookup reported it.
struct BrokerAddress {
  std::string connect_url;  // where to send requests
  std::string broker_url;   // the owning broker; differs from connect_url behind a proxy
  bool proxy = false;       // requests then carry x-danube-broker-url: broker_url
};

// Entry point of the Danube client: one gRPC channel per broker address, shared by every
// producer and consumer made from it. A cheap handle; copies share the same connections.
// Producers and consumers keep the connections alive after the handle is gone.
class DanubeClient {
 public:
  // Checks the options (URL, TLS files, token sources). Opens no connection yet.
  static Result<DanubeClient> create(ClientOptions options);

  // These calls block, retrying within ClientOptions::retry. A stop requested on `stop` ends
  // them at once with ErrorCategory::cancelled (waits for a connection, calls in progress and
  // pauses between attempts alike), so a shutting-down application never waits them out.

  // Looks the topic up and creates the producer on every partition (auto-creating topics).
  Result<std::unique_ptr<Producer>> create_producer(ProducerOptions options,
                                                    std::stop_token stop = {}) const;
  // Finds the topic's partitions and subscribes on each; the topic must exist.
  Result<std::unique_ptr<Consumer>> subscribe(ConsumerOptions options,
                                              std::stop_token stop = {}) const;

  Result<BrokerAddress> lookup_topic(const std::string& topic) const;
  Result<std::vector<std::string>> topic_partitions(const std::string& topic,
                                                    std::stop_token stop = {}) const;
  // Whether the service channel is connected, trying to connect for up to `timeout`.
  bool wait_for_connection(std::chrono::milliseconds timeout) const;
  // Whether the service channel is connected right now; never blocks (an idle channel is
  // asked to connect, so a later call can say yes).
  bool is_connected() const;

  SchemaRegistryClient schema_registry() const;
  const ClientOptions& options() const;

 private:
  explicit DanubeClient(std::shared_ptr<detail::ClientCore> core);
  std::shared_ptr<detail::ClientCore> core_;
};

}  // namespace danube::client
