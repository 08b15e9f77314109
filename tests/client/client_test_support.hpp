#pragma once

// Shared helpers of the client tests: a running broker and a client connected to it, and
// waiting for messages with a deadline instead of sleeping.
//
// The broker is an in-process embedded broker, except in a test's `real_broker` variant:
// there ctest sets DANUBE_CLIENT_TESTS_BROKER=external and the cases run against the broker
// DANUBE_BROKER_URL names (the real Danube broker, docs/interop.md), which the test neither
// starts nor controls. DANUBE_BROKER_URL alone never moves an embedded run elsewhere.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <thread>
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

// Whether this run is a `real_broker` variant (see the top of this file).
inline bool against_external_broker() {
  const char* where = std::getenv("DANUBE_CLIENT_TESTS_BROKER");
  return where != nullptr && std::string_view(where) == "external";
}

inline std::string external_broker_url() {
  const char* url = std::getenv("DANUBE_BROKER_URL");
  return url != nullptr ? url : "";
}

// A real_broker variant without a broker to talk to exits 77 before any case runs: ctest
// reports it skipped (SKIP_RETURN_CODE), as in CI.
struct SkipWithoutExternalBroker {
  SkipWithoutExternalBroker() {
    if (!against_external_broker() || !external_broker_url().empty()) return;
    std::printf(
        "skipped: set DANUBE_BROKER_URL (e.g. http://127.0.0.1:6650) to run the client tests "
        "against an external Danube broker\n");
    std::fflush(stdout);
    std::exit(77);
  }
};

// Boost.Test precondition of the cases that need the embedded broker's fault injection,
// restarts, options or introspection: reported as skipped in a real_broker variant.
inline boost::test_tools::assertion_result embedded_broker_only(boost::unit_test::test_unit_id) {
  boost::test_tools::assertion_result result(!against_external_broker());
  result.message() << "needs the embedded broker (fault injection, options or introspection)";
  return result;
}

struct BrokerAndClient {
  // `broker_options` apply to the embedded broker only; an external broker runs as it was
  // started.
  explicit BrokerAndClient(
      testkit::BrokerOptions broker_options = {},
      std::chrono::milliseconds health_check_interval = std::chrono::seconds(5)) {
    if (against_external_broker()) {
      std::random_device random;
      char suffix[24];
      std::snprintf(suffix, sizeof suffix, "-%08x%08x", random(), random());
      run_suffix_ = suffix;
    } else {
      embedded_.emplace(std::move(broker_options));
      embedded_->start();
    }
    auto options = fast_client_options(service_url());
    options.health_check_interval = health_check_interval;
    auto created = DanubeClient::create(options);
    BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
    client = std::make_unique<DanubeClient>(std::move(created).value());
  }

  std::string service_url() const {
    return embedded_ ? embedded_->service_url() : external_broker_url();
  }
  bool embedded() const { return embedded_.has_value(); }
  // The embedded broker: only for cases marked embedded_broker_only, or behind embedded().
  testkit::EmbeddedBroker& broker() {
    BOOST_REQUIRE_MESSAGE(embedded_, "this step needs the embedded broker");
    return *embedded_;
  }

  // `name` made unique to this test on an external broker, which keeps the topics and schema
  // subjects of earlier runs (new topics there must start at offset 0, subjects at version 1).
  // Suffixes have a fixed width, so no two names of different runs are prefixes of each other
  // (Danube's TopicPartitions answers a prefix match). The embedded broker is new for each
  // test: names stay as written.
  std::string name(const std::string& base) const { return base + run_suffix_; }
  std::string topic(const std::string& base) const { return "/default/" + name(base); }

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

  std::unique_ptr<DanubeClient> client;

 private:
  std::optional<testkit::EmbeddedBroker> embedded_;
  std::string run_suffix_;
};

enum class Acks { none, each };

// Receives until `count` messages arrived or `timeout` passed. Reliable topics deliver only
// max_unacked_messages ahead of the acks, so tests reading more than that ack as they go.
inline std::vector<ReceivedMessage> receive_n(
    Consumer& consumer, std::size_t count, Acks acks = Acks::none,
    std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
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
