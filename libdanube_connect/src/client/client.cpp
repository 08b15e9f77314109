#include "danube/client/client.hpp"

#include "client_core.hpp"
#include "consumer_core.hpp"
#include "producer_core.hpp"

namespace danube::client {

DanubeClient::DanubeClient(std::shared_ptr<detail::ClientCore> core) : core_(std::move(core)) {}

Result<DanubeClient> DanubeClient::create(ClientOptions options) {
  auto core = detail::ClientCore::create(std::move(options));
  if (!core) return core.error();
  return DanubeClient(std::move(core).value());
}

Result<std::unique_ptr<Producer>> DanubeClient::create_producer(ProducerOptions options,
                                                                std::stop_token stop) const {
  auto core = detail::ProducerCore::create(core_, std::move(options), std::move(stop));
  if (!core) return core.error();
  return std::make_unique<Producer>(std::move(core).value());
}

Result<std::unique_ptr<Consumer>> DanubeClient::subscribe(ConsumerOptions options,
                                                          std::stop_token stop) const {
  auto core = detail::ConsumerCore::create(core_, std::move(options), std::move(stop));
  if (!core) return core.error();
  return std::make_unique<Consumer>(std::move(core).value());
}

Result<BrokerAddress> DanubeClient::lookup_topic(const std::string& topic) const {
  return core_->lookup_topic(topic);
}

Result<std::vector<std::string>> DanubeClient::topic_partitions(const std::string& topic,
                                                                std::stop_token stop) const {
  detail::Cancellation cancel;
  const std::stop_callback on_stop(stop, [&cancel] { cancel.cancel(); });
  return core_->topic_partitions(topic, &cancel);
}

bool DanubeClient::wait_for_connection(std::chrono::milliseconds timeout) const {
  return core_->wait_for_connection(timeout);
}

bool DanubeClient::is_connected() const {
  return core_->is_connected();
}

SchemaRegistryClient DanubeClient::schema_registry() const {
  return SchemaRegistryClient(core_);
}

const ClientOptions& DanubeClient::options() const {
  return core_->options();
}

}  // namespace danube::client
