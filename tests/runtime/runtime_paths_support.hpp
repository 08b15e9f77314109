#pragma once

// Pieces shared by the in-process runtime-path tests (dead-letter policies, drain timeout,
// source publish retries, source supervision, streaming shutdown, relaxed ordering, auth,
// schemas, decode dead letters): a source the test feeds record by record, a sink that keeps
// what it saw, waits with deadlines, and a guard that drains every runtime a test leaves
// running, so a failed assertion never hangs the actor system's destructor.
//
// Connector code runs on runtime threads: it never uses Boost.Test assertions, it only records
// what happened for the test thread to check.
#include <boost/test/unit_test.hpp>
#include <caf/all.hpp>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "danube/client/client.hpp"
#include "danube/connect/sink_connector.hpp"
#include "danube/connect/source_connector.hpp"
#include "danube/runtime/embedding.hpp"
#include "danube/services/offset_store.hpp"
#include "runtime_test_support.hpp"

namespace danube::runtime::paths {

using namespace std::chrono_literals;
using test::Clock;

// Drains (or waits out) every runtime registered with it when the test ends, before the actor
// system goes away.
class RuntimeGuard {
 public:
  explicit RuntimeGuard(caf::actor_system& system) : system_(system) {}
  ~RuntimeGuard() {
    for (const auto& runtime : runtimes_) {
      caf::scoped_actor self{system_};
      self->monitor(runtime);
      self->send(runtime, drain_atom::value);
      bool down = false;
      while (!down) {
        self->receive([&](const caf::down_msg&) { down = true; },
                      [](const RuntimeStatus&) {},  // the drain's answer
                      caf::after(std::chrono::seconds(30)) >> [&] { down = true; });
      }
    }
  }
  RuntimeGuard(const RuntimeGuard&) = delete;
  RuntimeGuard& operator=(const RuntimeGuard&) = delete;

  // Returns the handle (a copy: later additions move the stored ones).
  connector_actor add(connector_actor runtime) {
    runtimes_.push_back(runtime);
    return runtime;
  }

 private:
  caf::actor_system& system_;
  std::vector<connector_actor> runtimes_;
};

inline RuntimeStatus status_of(caf::actor_system& system, const connector_actor& runtime) {
  caf::scoped_actor self{system};
  RuntimeStatus status;
  self->request(runtime, std::chrono::seconds(10), status_atom::value)
      .receive([&](const RuntimeStatus& result) { status = result; },
               [&](const caf::error&) { status.state = "gone"; });
  return status;
}

using test::eventually;

// The exit reason of `runtime`, or nullopt when it still runs after `timeout`.
inline std::optional<caf::error> wait_for_exit(caf::actor_system& system,
                                               const connector_actor& runtime,
                                               std::chrono::milliseconds timeout = 30s) {
  caf::scoped_actor self{system};
  self->monitor(runtime);
  std::optional<caf::error> reason;
  self->receive([&](const caf::down_msg& down) { reason = down.reason; },
                caf::after(timeout) >> [] {});
  return reason;
}

// Drain with a deadline: the final status and the exit reason, or nullopt on timeout.
struct DrainResult {
  RuntimeStatus status;
  caf::error reason;
  std::chrono::milliseconds elapsed{0};
};
inline std::optional<DrainResult> drain_and_wait(caf::actor_system& system,
                                                 const connector_actor& runtime,
                                                 std::chrono::milliseconds timeout = 60s) {
  caf::scoped_actor self{system};
  self->monitor(runtime);
  const auto started = Clock::now();
  DrainResult result;
  bool answered = false;
  self->request(runtime, timeout, drain_atom::value)
      .receive(
          [&](const RuntimeStatus& status) {
            result.status = status;
            answered = true;
          },
          [&](const caf::error&) {});
  if (!answered) return std::nullopt;
  bool down = false;
  self->receive(
      [&](const caf::down_msg& msg) {
        result.reason = msg.reason;
        down = true;
      },
      caf::after(timeout) >> [] {});
  if (!down) return std::nullopt;
  result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  return result;
}

inline bool subscribed(testkit::EmbeddedBroker& broker, const std::string& topic,
                       const std::string& subscription_name) {
  return broker.wait_until(
      [&] {
        auto sub = broker.subscription(topic, subscription_name);
        return sub && sub->connected_consumers >= 1;
      },
      30s);
}

// A plain client consumer on `topic`, for reading what a source published or a dead-letter
// topic. The topic must exist.
inline std::unique_ptr<client::Consumer> reader(client::DanubeClient& client,
                                                const std::string& topic, const std::string& name) {
  client::ConsumerOptions options;
  options.topic = topic;
  options.consumer_name = name;
  options.subscription = name;
  auto consumer = client.subscribe(options);
  BOOST_REQUIRE_MESSAGE(
      consumer.ok(), "subscribe " << topic << ": "
                                  << (consumer.ok() ? std::string() : consumer.error().message()));
  return std::move(consumer).value();
}

// Receives (and acks) until `count` messages arrived or `timeout` passed.
inline std::vector<client::ReceivedMessage> receive_n(client::Consumer& consumer, std::size_t count,
                                                      std::chrono::milliseconds timeout = 30s) {
  std::vector<client::ReceivedMessage> received;
  const auto deadline = Clock::now() + timeout;
  while (received.size() < count && Clock::now() < deadline) {
    for (auto& message : consumer.receive(count - received.size(), 50ms)) {
      consumer.ack_async(message);
      received.push_back(std::move(message));
    }
  }
  return received;
}

// A polling source fed by the test: poll() hands over what the test pushed and was not handed
// over yet. Like a real source it resumes after the offset the runtime stored: after a restart
// it hands over again whatever follows the resume offset (everything, without one). One
// offset partition per source. It records its life cycle and what the runtime committed.
// `health` (optional) decides health_check() from the number of initialize() calls so far; it
// may throw.
class ScriptedSource : public connect::SourceConnector {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<connect::SourceEnvelope> log;           // everything pushed, in order
    std::size_t next = 0;                               // the next one to hand over
    std::vector<std::vector<connect::Offset>> resumes;  // per initialize() call
    std::vector<connect::Offset> committed;
    int initialize_calls = 0;
    int shutdown_calls = 0;
    int health_checks = 0;
    int healthy_checks_after_restart = 0;

    void push(connect::SourceEnvelope envelope) {
      std::lock_guard lock(mutex);
      log.push_back(std::move(envelope));
    }
  };

  ScriptedSource(std::shared_ptr<Shared> shared, std::vector<connect::ProducerConfig> producers,
                 std::function<void(int initialize_calls)> health = {})
      : shared_(std::move(shared)), producers_(std::move(producers)), health_(std::move(health)) {}

  void initialize(const connect::ConnectorContext& context) override {
    const auto& resume = context.resume_offsets();
    std::lock_guard lock(shared_->mutex);
    ++shared_->initialize_calls;
    shared_->resumes.push_back(resume);
    shared_->next = 0;
    for (const auto& offset : resume) {
      for (std::size_t i = 0; i < shared_->log.size(); ++i) {
        const auto& logged = shared_->log[i].offset;
        if (logged && logged->partition == offset.partition && logged->value == offset.value) {
          shared_->next = i + 1;
        }
      }
    }
    shared_->changed.notify_all();
  }
  std::vector<connect::ProducerConfig> producer_configs() override { return producers_; }
  std::vector<connect::SourceEnvelope> poll() override {
    std::lock_guard lock(shared_->mutex);
    std::vector<connect::SourceEnvelope> batch(
        shared_->log.begin() + static_cast<std::ptrdiff_t>(shared_->next), shared_->log.end());
    shared_->next = shared_->log.size();
    return batch;
  }
  void commit(const std::vector<connect::Offset>& offsets) override {
    std::lock_guard lock(shared_->mutex);
    shared_->committed.insert(shared_->committed.end(), offsets.begin(), offsets.end());
    shared_->changed.notify_all();
  }
  void shutdown() override {
    std::lock_guard lock(shared_->mutex);
    ++shared_->shutdown_calls;
    shared_->changed.notify_all();
  }
  void health_check() override {
    int calls = 0;
    {
      std::lock_guard lock(shared_->mutex);
      ++shared_->health_checks;
      calls = shared_->initialize_calls;
      shared_->changed.notify_all();
    }
    if (health_) health_(calls);
    std::lock_guard lock(shared_->mutex);
    if (calls > 1) ++shared_->healthy_checks_after_restart;
    shared_->changed.notify_all();
  }

 private:
  std::shared_ptr<Shared> shared_;
  std::vector<connect::ProducerConfig> producers_;
  std::function<void(int)> health_;
};

template <class Shared>
bool wait_until(Shared& shared, const std::function<bool(const Shared&)>& condition,
                std::chrono::milliseconds timeout = 30s) {
  std::unique_lock lock(shared.mutex);
  return shared.changed.wait_for(lock, timeout, [&] { return condition(shared); });
}

// A sink that keeps every record it processed, without looking at the payload (which may be
// binary), and fails none.
class CapturingSink : public connect::SinkConnector {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<connect::SinkRecord> records;
  };

  CapturingSink(std::vector<connect::ConsumerConfig> subscriptions, std::shared_ptr<Shared> shared)
      : subscriptions_(std::move(subscriptions)), shared_(std::move(shared)) {}

  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ConsumerConfig> consumer_configs() override { return subscriptions_; }
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    std::lock_guard lock(shared_->mutex);
    shared_->records.insert(shared_->records.end(), records.begin(), records.end());
    shared_->changed.notify_all();
    return connect::BatchResult::all_ok(records.size());
  }

 private:
  std::vector<connect::ConsumerConfig> subscriptions_;
  std::shared_ptr<Shared> shared_;
};

inline connect::ConnectorConfig source_config(const std::string& service_url,
                                              const std::string& name,
                                              const std::filesystem::path& state_dir) {
  auto config = test::fast_config(service_url, name);
  config.offsets.state_dir = state_dir;
  config.offsets.commit_interval_ms = 20;
  return config;
}

// What stored_offset() stands for "nothing stored" in comparisons.
inline constexpr std::uint64_t kNothingStored = ~std::uint64_t{0};

inline std::optional<std::uint64_t> stored_offset(const std::filesystem::path& state_dir,
                                                  const std::string& connector,
                                                  const std::string& partition) {
  for (const auto& offset : services::FileOffsetStore::for_connector(state_dir, connector).load()) {
    if (offset.partition == partition) return offset.value;
  }
  return std::nullopt;
}

}  // namespace danube::runtime::paths
