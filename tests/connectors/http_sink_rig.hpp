#pragma once

// What the danube-sink-http process tests share: the embedded broker (a process) with the test's
// topics, a Danube client to produce numbered records and read the dead-letter topic, the test
// HTTP server, and danube-sink-http as a process.
#include <boost/test/unit_test.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "danube/client/client.hpp"
#include "http_sink_server.hpp"

namespace danube::http_sink_test {

using namespace std::chrono_literals;

inline const std::filesystem::path kBrokerBinary = DANUBE_EMBEDDED_BROKER_PATH;
inline const std::filesystem::path kConnectorBinary = CONNECTOR_PATH;

struct Rig {
  Rig(const std::string& label, const std::vector<std::string>& topics)
      : dir(label), broker(kBrokerBinary, dir.path(), broker_arguments(topics)) {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    auto created = client::DanubeClient::create(options);
    BOOST_TEST_REQUIRE(created.ok());
    danube = std::make_unique<client::DanubeClient>(std::move(created).value());
  }

  static std::vector<std::string> broker_arguments(const std::vector<std::string>& topics) {
    std::vector<std::string> arguments = {"--max-unacked", "1000", "--log-level", "warn"};
    for (const auto& topic : topics) {
      arguments.push_back("--topic");
      arguments.push_back(topic);
    }
    return arguments;
  }

  // Publishes {"n": first..first+count-1} to `topic` (routing key "k<n % 4>", so a partitioned
  // topic gets records on every partition, each partition in increasing n) and waits for the
  // broker to acknowledge them all.
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

  std::unique_ptr<client::Consumer> subscribe(const std::string& topic) {
    client::ConsumerOptions options;
    options.topic = topic;
    options.consumer_name = "checker";
    options.subscription = "checker";
    auto created = danube->subscribe(options);
    BOOST_TEST_REQUIRE(created.ok());
    return std::move(created).value();
  }

  // danube-sink-http with `http_sink_table` ([http_sink] and its routes) appended.
  std::unique_ptr<chaos::ConnectorProcess> connector(const std::string& name,
                                                     const std::string& http_sink_table) {
    chaos::ConnectorToml toml;
    toml.service_url = broker.service_url();
    toml.connector_name = name;
    toml.extra = "[offsets]\nstate_dir = \"" + (dir.path() / (name + "-state")).string() + "\"\n" +
                 http_sink_table;
    const auto config = dir.path() / (name + ".toml");
    chaos::write_text_file(config, toml.render());
    return std::make_unique<chaos::ConnectorProcess>(name, kConnectorBinary, config, dir.path());
  }

  chaos::ScratchDirectory dir;
  chaos::BrokerProcess broker;
  std::unique_ptr<client::DanubeClient> danube;

 private:
  std::size_t producers_ = 0;
};

// A route table: from, to, then whatever else (body_format, auth, ...).
inline std::string route(const std::string& from, const std::string& to,
                         const std::string& more = "") {
  return "[[http_sink.routes]]\nfrom = \"" + from + "\"\nto = \"" + to + "\"\n" + more;
}

// The record numbers a request carried: its body is one record (single), a JSON array, or
// NDJSON lines, each {"n": ...}.
inline std::vector<std::size_t> numbers_in(const ReceivedRequest& request) {
  std::vector<std::size_t> numbers;
  const auto add = [&](const nlohmann::json& value) {
    if (value.is_object() && value.contains("n")) numbers.push_back(value["n"].get<std::size_t>());
  };
  const auto whole = nlohmann::json::parse(request.body, nullptr, false);
  if (whole.is_array()) {
    for (const auto& element : whole)
      add(element);
  } else if (!whole.is_discarded()) {
    add(whole);
  } else {
    std::size_t start = 0;
    while (start < request.body.size()) {
      const auto end = request.body.find('\n', start);
      add(nlohmann::json::parse(request.body.substr(start, end - start), nullptr, false));
      if (end == std::string::npos) break;
      start = end + 1;
    }
  }
  return numbers;
}

// What the endpoint accepted (2xx) on `path`: per partition topic, the record numbers in the
// order they first arrived, and how often numbers arrived again.
struct Accepted {
  std::map<std::string, std::vector<std::size_t>> first_seen_by_partition;
  std::set<std::size_t> distinct;
  std::size_t duplicates = 0;

  static Accepted on(const std::vector<ReceivedRequest>& requests, const std::string& path) {
    Accepted accepted;
    for (const auto& request : requests) {
      if (request.path != path || request.status < 200 || request.status > 299) continue;
      for (const std::size_t n : numbers_in(request)) {
        if (accepted.distinct.insert(n).second) {
          accepted.first_seen_by_partition[request.header("x-danube-partition-topic")].push_back(n);
        } else {
          ++accepted.duplicates;
        }
      }
    }
    return accepted;
  }

  // Whether each partition's records first arrived in increasing order.
  bool in_order() const {
    for (const auto& [partition, numbers] : first_seen_by_partition) {
      if (!std::is_sorted(numbers.begin(), numbers.end())) return false;
    }
    return true;
  }
};

inline std::size_t accepted_count(const std::vector<ReceivedRequest>& requests,
                                  const std::string& path) {
  return Accepted::on(requests, path).distinct.size();
}

}  // namespace danube::http_sink_test
