// The drain's share of [shutdown] timeout_ms: a sink whose process_batch blocks longer than
// that share is not waited for. The runtime ends within the budget with the drain_incomplete
// exit reason and a final status that says the drain was not complete, and the records it
// was still processing are redelivered to the next subscriber.
#include <boost/test/unit_test.hpp>

#include "common/supervision.hpp"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

// A sink whose process_batch blocks until the test opens the gate (an external system that
// hangs), and then reports every record processed.
class HangingSink : public connect::SinkConnector {
 public:
  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    bool open = false;
    int calls_entered = 0;
    int calls_returned = 0;
    std::set<std::string> seen;
  };

  HangingSink(connect::ConsumerConfig subscription, std::shared_ptr<Shared> shared)
      : subscription_(std::move(subscription)), shared_(std::move(shared)) {}

  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ConsumerConfig> consumer_configs() override { return {subscription_}; }
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    std::unique_lock lock(shared_->mutex);
    for (const auto& record : records)
      shared_->seen.insert(std::string(record.as_string()));
    ++shared_->calls_entered;
    shared_->changed.notify_all();
    shared_->changed.wait(lock, [&] { return shared_->open; });
    ++shared_->calls_returned;
    shared_->changed.notify_all();
    return connect::BatchResult::all_ok(records.size());
  }

 private:
  connect::ConsumerConfig subscription_;
  std::shared_ptr<Shared> shared_;
};

// Opens the gate when the test ends, however it ends, so the blocked connector thread returns
// and the actor system can stop.
struct GateOpener {
  std::shared_ptr<HangingSink::Shared> shared;
  ~GateOpener() { open(); }
  void open() const {
    std::lock_guard lock(shared->mutex);
    shared->open = true;
    shared->changed.notify_all();
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(a_drain_cut_short_by_its_budget_ends_incomplete_and_loses_nothing) {
  testkit::EmbeddedBroker broker;
  broker.start();
  client::ClientOptions client_options;
  client_options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(client_options).value();
  const std::string topic = "/default/hanging";
  broker.create_topic(topic, true);

  auto hanging = std::make_shared<HangingSink::Shared>();
  caf::actor_system system{system_config()};
  const GateOpener gate{hanging};  // opened before the system waits for the connector's thread
  RuntimeGuard runtimes{system};

  auto config = fast_config(broker.service_url(), "hanging-sink");
  config.shutdown.timeout_ms = 6000;  // the drain's share: 60 %, 3600 ms
  const auto runtime = runtimes.add(spawn_sink(
      system, std::make_unique<HangingSink>(subscription(topic, "hanging"), hanging), config));
  BOOST_REQUIRE(subscribed(broker, topic, "hanging"));
  produce(client, topic, 5, "h-");
  // The first batch hangs in the connector; the rest waits behind it in the runtime.
  BOOST_REQUIRE(wait_until<HangingSink::Shared>(
      *hanging, [](const auto& s) { return s.calls_entered >= 1; }));
  BOOST_REQUIRE(eventually([&] { return status_of(system, runtime).received == 5; }));

  const auto drained = drain_and_wait(system, runtime, 30s);
  BOOST_REQUIRE_MESSAGE(drained, "the drain did not end");
  BOOST_TEST_MESSAGE("drain ended after " << drained->elapsed.count() << " ms");
  // It waited for the drain's 60 % first; its own steps end by 90 % of the budget (the last
  // 10 % absorbs the latency of the request and the exit on a loaded machine).
  BOOST_TEST(drained->elapsed < std::chrono::milliseconds(config.shutdown.timeout_ms));
  BOOST_TEST(drained->elapsed >= 3500ms);
  BOOST_TEST(drained->status.complete == false);
  BOOST_TEST(drained->status.processed == 0u);
  BOOST_TEST(drained->status.state == "stopped");
  BOOST_TEST(is_drain_incomplete(drained->reason));
  BOOST_TEST(!failure_kind(drained->reason).has_value());
  {
    std::lock_guard lock(hanging->mutex);
    BOOST_TEST(hanging->calls_returned == 0);  // the drain really did not wait for the call
  }
  BOOST_TEST(broker.counters(topic)->acked == 0u);

  // The hung call returns at last, too late: nothing of it is acked; the next subscriber gets
  // every record again.
  gate.open();
  auto next = std::make_shared<RecordingSink::Shared>();
  const auto successor = runtimes.add(spawn_sink(
      system, std::make_unique<RecordingSink>(std::vector{subscription(topic, "hanging")}, next),
      fast_config(broker.service_url(), "hanging-sink-successor")));
  BOOST_REQUIRE(wait_for(*next, [](const auto& s) {
    std::set<std::string> distinct;
    for (const auto& record : s.processed)
      distinct.insert(std::string(record.as_string()));
    return distinct.size() == 5;
  }));
  const auto second = drain_and_wait(system, successor);
  BOOST_REQUIRE(second);
  BOOST_TEST(second->status.complete);
  BOOST_TEST(!second->reason);
  BOOST_TEST(broker.counters(topic)->acked == 5u);
}
