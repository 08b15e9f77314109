#pragma once

// The sink's test rig: the embedded broker and a PostgreSQL server as processes, a Danube
// client in the test that produces and reads the dead-letter topic, and danube-sink-postgres
// as a process with its config file.
#include <boost/test/unit_test.hpp>
#include <memory>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "connector_rig.hpp"
#include "danube/client/client.hpp"
#include "postgres_test_support.hpp"

namespace danube::postgres_test {

inline const std::filesystem::path kBrokerBinary = DANUBE_EMBEDDED_BROKER_PATH;
inline const std::filesystem::path kConnectorBinary = CONNECTOR_PATH;
inline constexpr const char* kPasswordVariable = "PG_TEST_PASSWORD";

// The shared rig with danube-sink-postgres and a PostgreSQL server beside the broker.
struct Rig : connector_test::ConnectorRig {
  // `topics` are created when the broker starts (so the test can subscribe before anything is
  // published); add the dead-letter topic `/default/<connector>-dlq` when a test reads it.
  Rig(const std::string& label, const std::vector<std::string>& topics)
      : ConnectorRig(label, kBrokerBinary, kConnectorBinary, topics, /*max_unacked=*/2000),
        postgres(dir.path() / "pg") {
    postgres.start();
  }

  // `partitions`: as the topic was created (0: not partitioned).
  std::unique_ptr<client::Producer> producer(const std::string& topic, std::size_t partitions = 0) {
    client::ProducerOptions options;
    options.topic = topic;
    options.partitions = partitions;
    options.name = "test-producer-" + std::to_string(++producers);
    options.dispatch = client::Dispatch::reliable;
    auto created = danube->create_producer(options);
    BOOST_TEST_REQUIRE(created.ok());
    return std::move(created).value();
  }

  // [postgres] with this server's address and the password variable; `more` follows it.
  std::string postgres_table(const std::string& more = "") const {
    return "[postgres]\nconnection = \"" + postgres.tcp_connection() + "\"\npassword_env = \"" +
           kPasswordVariable + "\"\n" + more;
  }

  // The sink with the password in its environment.
  std::unique_ptr<chaos::ConnectorProcess> connector(const std::string& name,
                                                     const std::string& tables,
                                                     bool restart_on_fatal = true,
                                                     std::size_t batch_size = 500) {
    auto process = ConnectorRig::connector(name, tables, restart_on_fatal, batch_size);
    process->set_environment({std::string(kPasswordVariable) + "=" + kPassword});
    return process;
  }

  PostgresServer postgres;
  int producers = 0;
};

// Sends every payload (with `attributes` and `key` when given) and waits for the broker.
inline void send_all(client::Producer& producer, const std::vector<std::string>& payloads,
                     const Attributes& attributes = {},
                     const std::optional<std::string>& key = std::nullopt) {
  std::vector<std::future<client::Result<client::SendReceipt>>> sent;
  for (const auto& payload : payloads) {
    client::OutgoingMessage message;
    message.payload = payload;
    message.attributes = attributes;
    message.key = key;
    sent.push_back(producer.send(std::move(message)));
  }
  for (auto& outcome : sent)
    BOOST_TEST_REQUIRE(outcome.get().ok());
}

using connector_test::receive;

inline std::string attribute(const client::ReceivedMessage& message, const std::string& name) {
  const auto found = message.attributes.find(name);
  return found == message.attributes.end() ? "<none>" : found->second;
}

}  // namespace danube::postgres_test
