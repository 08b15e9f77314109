#pragma once

// Shared helpers of the client tests: a running embedded broker and a client connected to it,
// and waiting for messages with a deadline instead of sleeping.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <thread>
#include <string>
#include <vector>

#include "danube/client/client.hpp"
#include "danube/testkit/embedded_broker.hpp"

namespace danube::client::test {

// The error text of a failed result ("" on success). Boost.Test evaluates a message argument
// even when the check passes, so messages must not touch error() unconditionally.
template <class T>
std::string error_text(const Result<T>& result) {
  return result.ok() ? std::string() : result.error().to_string();
}

inline ClientOptions fast_client_options(const std::string& service_url) {
  ClientOptions options;
  options.service_url = service_url;
  options.retry.base_backoff = std::chrono::milliseconds(20);
  options.retry.max_backoff = std::chrono::milliseconds(200);
  options.request_timeout = std::chrono::seconds(10);
  return options;
}

struct BrokerAndClient {
  explicit BrokerAndClient(testkit::BrokerOptions broker_options = {},
                           std::chrono::milliseconds health_check_interval = std::chrono::seconds(5))
      : broker(std::move(broker_options)) {
    broker.start();
    auto options = fast_client_options(broker.service_url());
    options.health_check_interval = health_check_interval;
    auto created = DanubeClient::create(options);
    BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
    client = std::make_unique<DanubeClient>(std::move(created).value());
  }

  std::unique_ptr<Producer> producer(ProducerOptions options) const {
    auto created = client->create_producer(std::move(options));
    BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
    return std::move(created).value();
  }

  std::unique_ptr<Consumer> consumer(ConsumerOptions options) const {
    auto created = client->subscribe(std::move(options));
    BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
    return std::move(created).value();
  }

  testkit::EmbeddedBroker broker;
  std::unique_ptr<DanubeClient> client;
};

enum class Acks { none, each };

// Receives until `count` messages arrived or `timeout` passed. Reliable topics deliver only
// max_unacked_messages ahead of the acks, so tests reading more than that ack as they go.
inline std::vector<ReceivedMessage> receive_n(Consumer& consumer, std::size_t count,
                                              Acks acks = Acks::none,
                                              std::chrono::milliseconds timeout =
                                                  std::chrono::seconds(30)) {
  std::vector<ReceivedMessage> received;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (received.size() < count && std::chrono::steady_clock::now() < deadline) {
    auto batch = consumer.receive(count - received.size(), std::chrono::milliseconds(100));
    for (auto& message : batch) {
      if (acks == Acks::each) consumer.ack_async(message);
      received.push_back(std::move(message));
    }
  }
  return received;
}

// Polls `condition` until it holds or `timeout` passes: for state that offers no event to wait
// on (client statistics updated on gRPC threads).
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

inline OutgoingMessage text_message(const std::string& payload,
                                    std::optional<std::string> key = std::nullopt) {
  OutgoingMessage message;
  message.payload = payload;
  message.key = std::move(key);
  return message;
}

}  // namespace danube::client::test
