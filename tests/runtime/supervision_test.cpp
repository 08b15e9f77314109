// Supervision against the embedded broker: every long-lived runtime actor is restarted when it
// dies, a restarted pipeline that fails again is restarted again (or the runtime stops when the
// budget is spent), configuration errors are never restarted and keep their kind, a drain
// during a restart reports the failure, health failures are reported at every crossing, a busy
// connector is not an unhealthy one, and a transient registry failure during decode is retried.
#include "common/supervision.hpp"

#include <boost/test/unit_test.hpp>

#include "common/supervisor_actor.hpp"
#include "danube/services/dead_letter.hpp"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace std::chrono_literals;
using danube::runtime::paths::status_of;

namespace {

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    options.retry.max_retries = 1;
    options.retry.base_backoff = 10ms;
    options.retry.max_backoff = 20ms;
    client.emplace(client::DanubeClient::create(options).value());
  }
  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  caf::actor_system system{system_config()};
};

connect::ConnectorConfig restarting_config(const std::string& service_url, const std::string& name,
                                           std::uint32_t max_restarts) {
  auto config = fast_config(service_url, name);
  config.supervision.on_fatal = connect::OnFatal::restart;
  config.supervision.max_restarts = max_restarts;
  config.supervision.restart_backoff_ms = 10;
  config.supervision.max_restart_backoff_ms = 40;
  return config;
}

bool subscribed(testkit::EmbeddedBroker& broker, const std::string& topic,
                const std::string& subscription_name) {
  return broker.wait_until(
      [&] {
        auto sub = broker.subscription(topic, subscription_name);
        return sub && sub->connected_consumers >= 1;
      },
      30s);
}

// The runtime's own interface behind the public handle: this test looks inside.
std::vector<caf::actor_addr> children_of(caf::actor_system& system,
                                         const connector_actor& runtime) {
  caf::scoped_actor self{system};
  std::vector<caf::actor_addr> children;
  self->request(caf::actor_cast<supervisor_actor>(runtime), caf::infinite, children_atom::value)
      .receive([&](std::vector<caf::actor_addr>& result) { children = std::move(result); },
               [&](const caf::error& error) { BOOST_FAIL(system.render(error)); });
  return children;
}

caf::error wait_for_exit(caf::actor_system& system, const connector_actor& runtime) {
  caf::scoped_actor self{system};
  self->monitor(runtime);
  caf::error reason;
  self->receive([&](const caf::down_msg& down) { reason = down.reason; });
  return reason;
}

// A sink whose initialize() throws the given error on its first `failing` calls (all of them
// when `failing` is negative).
class FailingInitSink : public RecordingSink {
 public:
  FailingInitSink(std::vector<connect::ConsumerConfig> subscriptions,
                  std::shared_ptr<Shared> shared, connect::ConnectorError error, int failing)
      : RecordingSink(std::move(subscriptions), shared),
        shared_(std::move(shared)),
        error_(std::move(error)),
        failing_(failing) {}

  void initialize(const connect::ConnectorContext& context) override {
    RecordingSink::initialize(context);
    std::lock_guard lock(shared_->mutex);
    if (failing_ < 0 || shared_->initialize_calls <= failing_) throw error_;
  }

 private:
  std::shared_ptr<Shared> shared_;
  connect::ConnectorError error_;
  int failing_;
};

// A sink whose health_check() fails while `unhealthy` is set, and counts its calls.
class SickSink : public RecordingSink {
 public:
  SickSink(std::vector<connect::ConsumerConfig> subscriptions, std::shared_ptr<Shared> shared,
           std::shared_ptr<std::atomic<int>> checks)
      : RecordingSink(std::move(subscriptions), std::move(shared)), checks_(std::move(checks)) {}
  void health_check() override {
    ++*checks_;
    throw connect::ConnectorError::retryable("the database does not answer");
  }

 private:
  std::shared_ptr<std::atomic<int>> checks_;
};

// A sink whose every batch takes `duration`, far longer than the health probe interval.
class SlowSink : public RecordingSink {
 public:
  SlowSink(std::vector<connect::ConsumerConfig> subscriptions, std::shared_ptr<Shared> shared,
           std::chrono::milliseconds duration)
      : RecordingSink(std::move(subscriptions), std::move(shared)), duration_(duration) {}
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    std::this_thread::sleep_for(duration_);  // the external system is slow, not broken
    return RecordingSink::process_batch(records);
  }

 private:
  std::chrono::milliseconds duration_;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(every_long_lived_runtime_actor_is_respawned_when_it_dies, Fixture) {
  broker.create_topic("/default/respawn", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(broker.service_url(), "respawn-sink");  // on_fatal = exit
  config.supervision.restart_backoff_ms = 10;
  config.supervision.max_restart_backoff_ms = 40;
  auto runtime = spawn_sink(system,
                            std::make_unique<RecordingSink>(
                                std::vector{subscription("/default/respawn", "respawn")}, shared),
                            config);
  BOOST_REQUIRE(subscribed(broker, "/default/respawn", "respawn"));

  const char* names[] = {"connector", "broker_io", "dead_letter_router", "health_monitor"};
  for (std::size_t child = 0; child < 4; ++child) {
    BOOST_TEST_CONTEXT(names[child]) {
      const auto before = children_of(system, runtime);
      BOOST_REQUIRE_EQUAL(before.size(), 4u);
      caf::anon_send_exit(before[child], caf::exit_reason::kill);
      // The runtime respawns it (with whatever depends on it) and rebuilds the pipeline.
      BOOST_REQUIRE(eventually([&] {
        const auto status = status_of(system, runtime);
        return status.restarts == child + 1 && status.state == "running";
      }));
      const auto after = children_of(system, runtime);
      BOOST_CHECK(after[child] != before[child]);
      BOOST_REQUIRE(subscribed(broker, "/default/respawn", "respawn"));
      const std::string prefix = std::string(names[child]) + "-";
      produce(*client, "/default/respawn", 10, prefix);
      BOOST_REQUIRE(wait_for(*shared, [&](const auto& s) {
        std::size_t seen = 0;
        for (const auto& record : s.processed)
          seen += record.as_string().starts_with(prefix);
        return seen >= 10;
      }));
    }
  }
  const auto status = drain(system, runtime);
  BOOST_TEST(status.state == "stopped");
}

BOOST_FIXTURE_TEST_CASE(a_restarted_pipeline_failing_before_it_runs_is_restarted_until_the_budget,
                        Fixture) {
  broker.create_topic("/default/never", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto runtime = spawn_sink(system,
                            std::make_unique<FailingInitSink>(
                                std::vector{subscription("/default/never", "never")}, shared,
                                connect::ConnectorError::fatal("the target is unreachable"), -1),
                            restarting_config(broker.service_url(), "never-sink", 2));
  const auto reason = wait_for_exit(system, runtime);
  BOOST_CHECK(failure_kind(reason) == std::optional(connect::ErrorKind::fatal));
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->initialize_calls == 3);  // the first start and two restarts
}

BOOST_FIXTURE_TEST_CASE(a_pipeline_that_recovers_on_a_later_restart_runs, Fixture) {
  broker.create_topic("/default/later", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto runtime = spawn_sink(
      system,
      std::make_unique<FailingInitSink>(std::vector{subscription("/default/later", "later")},
                                        shared, connect::ConnectorError::fatal("not yet"), 2),
      restarting_config(broker.service_url(), "later-sink", 5));
  BOOST_REQUIRE(subscribed(broker, "/default/later", "later"));
  produce(*client, "/default/later", 5, "l-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 5; }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.restarts == 2u);
  BOOST_TEST(status.state == "stopped");
}

BOOST_FIXTURE_TEST_CASE(a_sink_whose_topic_does_not_exist_fails_after_its_restarts, Fixture) {
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = restarting_config(broker.service_url(), "missing-sink", 1);
  config.retry.max_retries = 1;  // how long subscribing waits for the topic to appear
  auto runtime = spawn_sink(system,
                            std::make_unique<RecordingSink>(
                                std::vector{subscription("/default/missing", "missing")}, shared),
                            config);
  const auto reason = wait_for_exit(system, runtime);
  BOOST_TEST(static_cast<bool>(reason));
  BOOST_TEST(system.render(reason).find("/default/missing") != std::string::npos);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->initialize_calls == 2);
}

BOOST_FIXTURE_TEST_CASE(a_configuration_error_is_never_restarted_and_keeps_its_kind, Fixture) {
  broker.create_topic("/default/misconfigured", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto runtime = spawn_sink(
      system,
      std::make_unique<FailingInitSink>(
          std::vector{subscription("/default/misconfigured", "misconfigured")}, shared,
          connect::ConnectorError::configuration("[mysink] batch_rows: must be positive"), -1),
      restarting_config(broker.service_url(), "misconfigured-sink", 5));
  const auto reason = wait_for_exit(system, runtime);
  BOOST_CHECK(failure_kind(reason) == std::optional(connect::ErrorKind::configuration));
  BOOST_TEST(system.render(reason).find("batch_rows") != std::string::npos);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->initialize_calls == 1);
}

BOOST_FIXTURE_TEST_CASE(a_drain_during_a_restart_reports_the_failure, Fixture) {
  broker.create_topic("/default/restarting", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = restarting_config(broker.service_url(), "restarting-sink", 5);
  config.supervision.restart_backoff_ms = 60'000;  // the restart stays pending
  config.supervision.max_restart_backoff_ms = 60'000;
  auto runtime = spawn_sink(
      system,
      std::make_unique<FailingInitSink>(std::vector{subscription("/default/restarting", "r")},
                                        shared, connect::ConnectorError::fatal("down"), -1),
      config);
  BOOST_REQUIRE(eventually([&] { return status_of(system, runtime).state == "restarting"; }));
  caf::scoped_actor self{system};
  self->monitor(runtime);
  RuntimeStatus final_status;
  self->request(runtime, caf::infinite, drain_atom::value)
      .receive([&](const RuntimeStatus& status) { final_status = status; },
               [&](const caf::error& error) { BOOST_FAIL(system.render(error)); });
  caf::error reason;
  self->receive([&](const caf::down_msg& down) { reason = down.reason; });
  BOOST_TEST(final_status.state == "failed");
  BOOST_TEST(final_status.last_error.find("down") != std::string::npos);
  BOOST_CHECK(failure_kind(reason) == std::optional(connect::ErrorKind::fatal));
}

BOOST_FIXTURE_TEST_CASE(health_failures_restart_the_connector_at_every_crossing, Fixture) {
  broker.create_topic("/default/sick", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto checks = std::make_shared<std::atomic<int>>(0);
  auto config = restarting_config(broker.service_url(), "sick-sink", 10);
  config.processing.health_check_interval_ms = 100;
  config.processing.health_check_failure_threshold = 2;
  auto runtime = spawn_sink(system,
                            std::make_unique<SickSink>(
                                std::vector{subscription("/default/sick", "sick")}, shared, checks),
                            config);
  // Each incarnation crosses the threshold again and is restarted again.
  BOOST_REQUIRE(eventually([&] { return status_of(system, runtime).restarts >= 3; }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.restarts >= 3u);
}

BOOST_FIXTURE_TEST_CASE(a_connector_busy_longer_than_the_probe_interval_is_not_unhealthy, Fixture) {
  broker.create_topic("/default/slow", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(broker.service_url(), "slow-sink");  // a failure would stop it
  config.processing.health_check_interval_ms = 100;
  config.processing.health_check_failure_threshold = 2;
  config.processing.batch_size = 1;
  auto runtime = spawn_sink(
      system,
      std::make_unique<SlowSink>(std::vector{subscription("/default/slow", "slow")}, shared, 700ms),
      config);
  BOOST_REQUIRE(subscribed(broker, "/default/slow", "slow"));
  produce(*client, "/default/slow", 4, "s-");
  // Four batches of 700 ms: every probe in between waits behind a batch far longer than its
  // 100 ms interval.
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 4; }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.state == "stopped");
  BOOST_TEST(status.restarts == 0u);
  BOOST_TEST(status.last_error.empty());
}

BOOST_FIXTURE_TEST_CASE(a_transient_registry_failure_during_decode_is_retried, Fixture) {
  broker.create_topic("/default/typed", true);
  client::RegisterSchemaRequest registration;
  registration.subject = "typed-value";
  registration.schema_type = "json_schema";
  registration.definition = R"({"type":"object","properties":{"n":{"type":"integer"}}})";
  BOOST_REQUIRE(client->schema_registry().register_schema(registration).ok());
  client::ProducerOptions producer_options;
  producer_options.topic = "/default/typed";
  producer_options.name = "typed-producer";
  producer_options.dispatch = client::Dispatch::reliable;
  producer_options.schema = client::SchemaReference{"typed-value", {}};
  auto producer = client->create_producer(producer_options);
  BOOST_REQUIRE(producer.ok());

  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(broker.service_url(), "typed-sink");
  RuntimeServices services;
  services.client = *client;  // one retry per registry call: the fault below outlasts it
  auto runtime = spawn_sink(
      system,
      std::make_unique<RecordingSink>(std::vector{subscription("/default/typed", "typed")}, shared),
      config, services);
  BOOST_REQUIRE(subscribed(broker, "/default/typed", "typed"));
  // The registry is unreachable for the first decode (both of the client's attempts).
  broker.fail_next(testkit::Rpc::schema_registry, 2, 14 /* UNAVAILABLE */, "registry restarting");
  client::OutgoingMessage message;
  message.payload = R"({"n":1})";
  BOOST_REQUIRE(producer.value()->send(std::move(message)).get().ok());
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return !s.processed.empty(); }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.dead_lettered == 0u);
  BOOST_TEST(status.retried >= 1u);
  BOOST_TEST(status.processed == 1u);
}

BOOST_FIXTURE_TEST_CASE(a_drain_with_the_broker_down_ends_within_its_budget, Fixture) {
  broker.create_topic("/default/cutoff", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(broker.service_url(), "cutoff-sink");
  config.shutdown.timeout_ms = 1500;
  auto runtime = spawn_sink(system,
                            std::make_unique<RecordingSink>(
                                std::vector{subscription("/default/cutoff", "cutoff")}, shared),
                            config);
  BOOST_REQUIRE(subscribed(broker, "/default/cutoff", "cutoff"));
  produce(*client, "/default/cutoff", 3, "c-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 3; }));
  broker.stop();
  const auto started = std::chrono::steady_clock::now();
  caf::scoped_actor self{system};
  self->monitor(runtime);
  RuntimeStatus final_status;
  self->request(runtime, caf::infinite, drain_atom::value)
      .receive([&](const RuntimeStatus& status) { final_status = status; },
               [&](const caf::error& error) { BOOST_FAIL(system.render(error)); });
  caf::error reason;
  self->receive([&](const caf::down_msg& down) { reason = down.reason; });
  const auto elapsed = std::chrono::steady_clock::now() - started;
  // The runtime's own steps end by 90 % of the budget; what remains is the process's teardown.
  BOOST_TEST(elapsed < std::chrono::milliseconds(config.shutdown.timeout_ms));
  BOOST_TEST(final_status.state == "stopped");
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->shutdown_calls == 1);
}
