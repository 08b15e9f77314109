#pragma once

// What the connector process tests share: the embedded broker as a process with the test's
// topics created at start (so a consumer can subscribe before anything is published), a Danube
// client in the test process to produce numbered records and to read topics (the dead-letter
// topic too), and the connector under test as a process with a generated configuration.
#include <boost/test/unit_test.hpp>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "danube/client/client.hpp"

namespace danube::connector_test {

using namespace std::chrono_literals;

class ConnectorRig {
 public:
  // `topics`: "--topic" arguments of the broker ("/default/t:partitions=2:non-reliable").
  ConnectorRig(const std::string& label, std::filesystem::path broker_binary,
               std::filesystem::path connector_binary, const std::vector<std::string>& topics,
               std::uint32_t max_unacked = 1000)
      : dir(label),
        broker(std::move(broker_binary), dir.path(), broker_arguments(topics, max_unacked)),
        connector_binary_(std::move(connector_binary)) {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    auto created = client::DanubeClient::create(options);
    BOOST_TEST_REQUIRE(created.ok());
    danube = std::make_unique<client::DanubeClient>(std::move(created).value());
  }

  static std::vector<std::string> broker_arguments(const std::vector<std::string>& topics,
                                                   std::uint32_t max_unacked) {
    std::vector<std::string> arguments = {"--max-unacked", std::to_string(max_unacked),
                                          "--log-level", "warn"};
    for (const auto& topic : topics) {
      arguments.push_back("--topic");
      arguments.push_back(topic);
    }
    return arguments;
  }

  std::unique_ptr<client::Consumer> subscribe(const std::string& topic) {
    client::ConsumerOptions options;
    options.topic = topic;
    options.consumer_name = "checker";
    options.subscription = "checker";
    auto created = danube->subscribe(options);
    BOOST_TEST_REQUIRE(created.ok());
    return std::move(created).value();
  }

  // Publishes {"n": first..first+count-1} (plus `extra(n)`'s fields) to `topic` with routing
  // key "k<n % 4>", so a partitioned topic gets records on every partition, each partition in
  // increasing n; waits until the broker acknowledged them all.
  void produce(const std::string& topic, std::size_t partitions, std::size_t first,
               std::size_t count, const std::function<nlohmann::json(std::size_t)>& extra = {}) {
    client::ProducerOptions options;
    options.topic = topic;
    options.name = "test-producer-" + std::to_string(producers_++);
    options.partitions = partitions;
    options.dispatch = Dispatch::reliable;
    auto created = danube->create_producer(options);
    BOOST_TEST_REQUIRE(created.ok());
    auto producer = std::move(created).value();
    for (std::size_t n = first; n < first + count; ++n) {
      nlohmann::json value = extra ? extra(n) : nlohmann::json::object();
      value["n"] = n;
      client::OutgoingMessage message;
      message.payload = value.dump();
      message.key = "k" + std::to_string(n % 4);
      producer->send_async(std::move(message), [](client::Result<client::SendReceipt>) {});
    }
    BOOST_TEST_REQUIRE(producer->flush(30s));
    BOOST_TEST_REQUIRE(producer->stats().failed == 0u);
  }

  // The connector with `tables` (its own tables) after the suite's common settings and an
  // [offsets] state directory of its own; not started.
  std::unique_ptr<chaos::ConnectorProcess> connector(const std::string& name,
                                                     const std::string& tables,
                                                     bool restart_on_fatal = true,
                                                     std::size_t batch_size = 500) {
    chaos::ConnectorToml toml;
    toml.service_url = broker.service_url();
    toml.connector_name = name;
    toml.restart_on_fatal = restart_on_fatal;
    toml.batch_size = batch_size;
    toml.extra =
        "[offsets]\nstate_dir = \"" + (dir.path() / (name + "-state")).string() + "\"\n" + tables;
    const auto config = dir.path() / (name + ".toml");
    chaos::write_text_file(config, toml.render());
    return std::make_unique<chaos::ConnectorProcess>(name, connector_binary_, config, dir.path());
  }

  chaos::ScratchDirectory dir;
  chaos::BrokerProcess broker;
  std::unique_ptr<client::DanubeClient> danube;

 private:
  std::filesystem::path connector_binary_;
  std::size_t producers_ = 0;
};

// Receives (and acks) until `count` messages arrived or `timeout` passed.
inline std::vector<client::ReceivedMessage> receive(client::Consumer& consumer, std::size_t count,
                                                    std::chrono::milliseconds timeout = 30s) {
  std::vector<client::ReceivedMessage> received;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received.size() < count && std::chrono::steady_clock::now() < deadline) {
    for (auto& message : consumer.receive(count - received.size(), 100ms)) {
      consumer.ack_async(message);
      received.push_back(std::move(message));
    }
  }
  return received;
}

}  // namespace danube::connector_test
