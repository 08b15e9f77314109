#pragma once

// Shared pieces of the runtime tests: an embedded broker, a client to produce test data, an
// actor system, configs with fast timers, and a recording sink connector whose behaviour per
// record the test decides.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <condition_variable>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "danube/client/client.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/sink_connector.hpp"
#include "danube/runtime/embedding.hpp"
#include "danube/testkit/embedded_broker.hpp"

namespace danube::runtime::test {

using Clock = std::chrono::steady_clock;
using WallClock = std::chrono::system_clock;

struct TempDirectory {
  TempDirectory() {
    path = std::filesystem::temp_directory_path() /
           ("danube-runtime-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path);
  }
  ~TempDirectory() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

// State files (sink offsets, gap records) of the runtimes this test process starts: each config
// gets its own directory, so no run or test case inherits another's history.
inline std::filesystem::path fresh_state_dir(const std::string& name) {
  static TempDirectory root;
  static std::atomic<int> next{0};
  return root.path / (name + "-" + std::to_string(next++));
}

inline connect::ConnectorConfig fast_config(const std::string& service_url,
                                            const std::string& name) {
  connect::ConnectorConfig config;
  config.danube_service_url = service_url;
  config.connector_name = name;
  config.retry.max_retries = 3;
  config.retry.retry_backoff_ms = 10;
  config.retry.max_backoff_ms = 50;
  config.processing.batch_size = 100;
  config.processing.batch_timeout_ms = 20;
  config.processing.health_check_interval_ms = 3'600'000;
  config.shutdown.timeout_ms = 20'000;
  config.http.enabled = false;
  config.offsets.state_dir = fresh_state_dir(name);
  return config;
}

inline caf::actor_system_config& system_config() {
  static caf::actor_system_config config = [] {
    caf::actor_system_config c;
    c.set("scheduler.max-threads", 2);
    c.set("logger.verbosity", caf::atom("quiet"));
    return c;
  }();
  return config;
}

// What the recording sink does with one record, decided by the test.
using Verdict =
    std::function<std::optional<connect::ConnectorError>(const connect::SinkRecord&, int attempt)>;

// A sink that records every record it processed successfully, in processing order, and lets
// tests wait until a condition on what it saw holds.
class RecordingSink : public connect::SinkConnector {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<connect::SinkRecord> processed;
    std::map<std::string, int> attempts;  // by payload
    int initialize_calls = 0;
    int shutdown_calls = 0;
    std::size_t batches = 0;
  };

  RecordingSink(std::vector<connect::ConsumerConfig> subscriptions, std::shared_ptr<Shared> shared,
                Verdict verdict = {})
      : subscriptions_(std::move(subscriptions)),
        shared_(std::move(shared)),
        verdict_(std::move(verdict)) {}

  void initialize(const connect::ConnectorContext&) override {
    std::lock_guard lock(shared_->mutex);
    ++shared_->initialize_calls;
    shared_->changed.notify_all();
  }
  std::vector<connect::ConsumerConfig> consumer_configs() override { return subscriptions_; }

  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    connect::BatchResult result(records.size());
    std::lock_guard lock(shared_->mutex);
    ++shared_->batches;
    for (std::size_t i = 0; i < records.size(); ++i) {
      const std::string payload(records[i].as_string());
      const int attempt = ++shared_->attempts[payload];
      if (verdict_) {
        if (auto error = verdict_(records[i], attempt)) {
          result.fail(i, *error);
          continue;
        }
      }
      shared_->processed.push_back(records[i]);
    }
    shared_->changed.notify_all();
    return result;
  }

  void shutdown() override {
    std::lock_guard lock(shared_->mutex);
    ++shared_->shutdown_calls;
    shared_->changed.notify_all();
  }

 private:
  std::vector<connect::ConsumerConfig> subscriptions_;
  std::shared_ptr<Shared> shared_;
  Verdict verdict_;
};

inline bool wait_for(RecordingSink::Shared& shared,
                     const std::function<bool(const RecordingSink::Shared&)>& condition,
                     std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  std::unique_lock lock(shared.mutex);
  return shared.changed.wait_for(lock, timeout, [&] { return condition(shared); });
}

// Holds process_batch until the test opens the gate, so the subscription lags on purpose.
class GatedSink : public RecordingSink {
 public:
  struct Gate {
    std::mutex mutex;
    std::condition_variable opened_cv;
    bool opened = true;
    bool blocked = false;  // a batch waits at the gate
    void close() {
      std::lock_guard lock(mutex);
      opened = false;
    }
    void open() {
      std::lock_guard lock(mutex);
      opened = true;
      opened_cv.notify_all();
    }
    bool wait_blocked(std::chrono::milliseconds timeout) {
      std::unique_lock lock(mutex);
      return opened_cv.wait_for(lock, timeout, [&] { return blocked; });
    }
  };

  GatedSink(std::vector<connect::ConsumerConfig> subscriptions,
            std::shared_ptr<RecordingSink::Shared> shared, std::shared_ptr<Gate> gate)
      : RecordingSink(std::move(subscriptions), std::move(shared)), gate_(std::move(gate)) {}

  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    {
      std::unique_lock lock(gate_->mutex);
      gate_->blocked = !gate_->opened;
      gate_->opened_cv.notify_all();
      gate_->opened_cv.wait(lock, [&] { return gate_->opened; });
      gate_->blocked = false;
    }
    return RecordingSink::process_batch(records);
  }

 private:
  std::shared_ptr<Gate> gate_;
};

// The distinct payloads a RecordingSink processed so far. Locks `shared.mutex`: not for use
// inside wait_for() predicates, which run under it.
inline std::set<std::string> processed_payloads(RecordingSink::Shared& shared) {
  std::lock_guard lock(shared.mutex);
  std::set<std::string> payloads;
  for (const auto& record : shared.processed)
    payloads.insert(std::string(record.as_string()));
  return payloads;
}

// How many of "<prefix>0" .. "<prefix><count - 1>" are not in `seen`.
inline std::size_t missing(const std::set<std::string>& seen, const std::string& prefix,
                           int count) {
  std::size_t absent = 0;
  for (int i = 0; i < count; ++i)
    absent += seen.contains(prefix + std::to_string(i)) ? 0 : 1;
  return absent;
}

inline connect::ConsumerConfig subscription(const std::string& topic, const std::string& name) {
  connect::ConsumerConfig config;
  config.topic = topic;
  config.consumer_name = name + "-consumer";
  config.subscription = name;
  config.subscription_type = connect::SubscriptionType::exclusive;
  return config;
}

// Produces `count` messages "<prefix><i>" with attribute i, keyed by i % keys when keys > 0.
// Returns what went wrong, if anything, without Boost.Test assertions, which are not
// thread-safe: a test that produces from a thread of its own checks the result after joining.
inline std::optional<std::string> try_produce(client::DanubeClient& client,
                                              const std::string& topic, int count,
                                              const std::string& prefix, std::size_t partitions = 0,
                                              int keys = 0, bool reliable = true) {
  client::ProducerOptions options;
  options.topic = topic;
  options.name = "test-producer-" + prefix;
  options.partitions = partitions;
  options.dispatch = reliable ? client::Dispatch::reliable : client::Dispatch::non_reliable;
  auto producer = client.create_producer(options);
  if (!producer.ok()) return "create_producer failed: " + producer.error().message();
  for (int i = 0; i < count; ++i) {
    client::OutgoingMessage message;
    message.payload = prefix + std::to_string(i);
    message.attributes["i"] = std::to_string(i);
    if (keys > 0) message.key = "key-" + std::to_string(i % keys);
    producer.value()->send_async(std::move(message), {});
  }
  if (!producer.value()->flush(std::chrono::seconds(60))) return "flush timed out";
  const auto sent = producer.value()->stats().sent;
  if (sent != static_cast<std::uint64_t>(count)) {
    return "sent " + std::to_string(sent) + " of " + std::to_string(count);
  }
  return std::nullopt;
}

inline void produce(client::DanubeClient& client, const std::string& topic, int count,
                    const std::string& prefix, std::size_t partitions = 0, int keys = 0,
                    bool reliable = true) {
  const auto failure = try_produce(client, topic, count, prefix, partitions, keys, reliable);
  BOOST_REQUIRE_MESSAGE(!failure, failure.value_or(""));
}

// Polls `condition` until it holds or `timeout` passes: the runtime's status offers no event
// to wait on from outside the actor system. The one polling loop of the runtime tests.
inline bool eventually(const std::function<bool()>& condition,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!condition()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

// Polls `status()` until its received count equals `expected`.
template <class StatusFn>
bool eventually_equal(StatusFn&& status, std::uint64_t expected,
                      std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  return eventually([&] { return status().received == expected; }, timeout);
}

inline RuntimeStatus drain(caf::actor_system& system, const connector_actor& runtime) {
  caf::scoped_actor self{system};
  RuntimeStatus status;
  self->request(runtime, caf::infinite, drain_atom::value)
      .receive(
          [&](const RuntimeStatus& result) { status = result; },
          [&](const caf::error& error) { BOOST_FAIL("drain failed: " << system.render(error)); });
  self->wait_for(runtime);
  return status;
}

}  // namespace danube::runtime::test
