// The sink runtime against the embedded broker: exactly-once delivery in a clean run over
// several topics (one partitioned), retries, dead letters with their error attributes, order
// per partition under retries, fatal failures and their supervised restarts.
#include <prometheus/registry.h>

#include <boost/test/unit_test.hpp>

#include "danube/services/dead_letter.hpp"
#include "danube/services/metrics.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(options).value());
  }
  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  caf::actor_system system{system_config()};
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_clean_run_over_three_topics_delivers_everything_exactly_once, Fixture) {
  broker.create_topic("/default/orders", true);
  broker.create_topic("/default/payments", true);
  broker.create_topic("/default/events", true, 3);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(broker.service_url(), "three-topics");
  auto runtime = spawn_sink(
      system,
      std::make_unique<RecordingSink>(
          std::vector<connect::ConsumerConfig>{subscription("/default/orders", "orders-sink"),
                                               subscription("/default/payments", "payments-sink"),
                                               subscription("/default/events", "events-sink")},
          shared),
      config);
  // Subscriptions start at the latest offset: wait until the sink is subscribed everywhere.
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        for (const char* topic : {"/default/orders", "/default/payments", "/default/events-part-0",
                                  "/default/events-part-1", "/default/events-part-2"}) {
          auto sub = broker.subscription(
              topic, std::string(topic).find("orders") != std::string::npos     ? "orders-sink"
                     : std::string(topic).find("payments") != std::string::npos ? "payments-sink"
                                                                                : "events-sink");
          if (!sub || sub->connected_consumers == 0) return false;
        }
        return true;
      },
      20s));

  produce(*client, "/default/orders", 400, "order-");
  produce(*client, "/default/payments", 300, "payment-");
  produce(*client, "/default/events", 600, "event-", 3, 10);
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 1300; }));

  const RuntimeStatus status = drain(system, runtime);
  BOOST_TEST(status.state == "stopped");
  BOOST_TEST(status.processed == 1300u);
  BOOST_TEST(status.received == 1300u);
  BOOST_TEST(status.dead_lettered == 0u);

  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->processed.size() == 1300u);
  std::set<std::string> payloads;
  for (const auto& record : shared->processed)
    payloads.insert(std::string(record.as_string()));
  BOOST_TEST(payloads.size() == 1300u);  // no duplicates
  BOOST_TEST(shared->shutdown_calls == 1);
  // Every record was acked before the drain finished.
  for (const char* topic : {"/default/orders", "/default/payments"}) {
    BOOST_TEST_CONTEXT(topic) {
      BOOST_TEST(broker.counters(topic)->acked == broker.counters(topic)->published);
    }
  }
  std::uint64_t event_acks = 0;
  for (int p = 0; p < 3; ++p) {
    event_acks += broker.counters("/default/events-part-" + std::to_string(p))->acked;
  }
  BOOST_TEST(event_acks == 600u);
}

namespace {

bool subscribed(testkit::EmbeddedBroker& broker, const std::string& topic,
                const std::string& subscription_name, std::size_t consumers = 1) {
  return broker.wait_until(
      [&] {
        auto sub = broker.subscription(topic, subscription_name);
        return sub && sub->connected_consumers >= consumers;
      },
      20s);
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(retryable_failures_are_retried_until_they_succeed, Fixture) {
  broker.create_topic("/default/flaky", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  // Every fifth record fails twice before it goes through.
  Verdict verdict = [](const connect::SinkRecord& record,
                       int attempt) -> std::optional<connect::ConnectorError> {
    const int n = std::stoi(std::string(record.attribute("i").value()));
    if (n % 5 == 0 && attempt <= 2) return connect::ConnectorError::retryable("busy");
    return std::nullopt;
  };
  auto runtime =
      spawn_sink(system,
                 std::make_unique<RecordingSink>(
                     std::vector{subscription("/default/flaky", "flaky-sink")}, shared, verdict),
                 fast_config(broker.service_url(), "flaky"));
  BOOST_REQUIRE(subscribed(broker, "/default/flaky", "flaky-sink"));
  produce(*client, "/default/flaky", 100, "m-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 100; }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.processed == 100u);
  BOOST_TEST(status.retried == 40u);  // 20 records x 2 retries
  BOOST_TEST(status.failed == 40u);
  BOOST_TEST(status.dead_lettered == 0u);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->processed.size() == 100u);
  BOOST_TEST(shared->attempts.at("m-5") == 3);
  BOOST_TEST(shared->attempts.at("m-6") == 1);
}

BOOST_FIXTURE_TEST_CASE(invalid_data_and_exhausted_retries_land_in_the_dead_letter_topic, Fixture) {
  broker.create_topic("/default/payments", true, 2);
  broker.create_topic("/default/payments-dlq", true);  // so the test can subscribe in time
  client::ConsumerOptions dlq_options;
  dlq_options.topic = "/default/payments-dlq";
  dlq_options.consumer_name = "inspector";
  dlq_options.subscription = "inspect";
  auto dead_letters = client->subscribe(dlq_options);
  BOOST_REQUIRE(dead_letters.ok());

  auto shared = std::make_shared<RecordingSink::Shared>();
  Verdict verdict = [](const connect::SinkRecord& record,
                       int) -> std::optional<connect::ConnectorError> {
    const std::string payload(record.as_string());
    if (payload == "p-3") return connect::ConnectorError::invalid_data("amount is negative");
    if (payload == "p-7") return connect::ConnectorError::retryable("ledger timeout");
    return std::nullopt;
  };
  auto config = fast_config(broker.service_url(), "payments-sink");
  config.dead_letter.topic = "/default/payments-dlq";
  auto runtime =
      spawn_sink(system,
                 std::make_unique<RecordingSink>(
                     std::vector{subscription("/default/payments", "payments")}, shared, verdict),
                 config);
  BOOST_REQUIRE(subscribed(broker, "/default/payments-part-0", "payments"));
  BOOST_REQUIRE(subscribed(broker, "/default/payments-part-1", "payments"));
  const auto before = WallClock::now();
  produce(*client, "/default/payments", 10, "p-", 2);

  std::map<std::string, client::ReceivedMessage> dead;
  const auto deadline = Clock::now() + 30s;
  while (dead.size() < 2 && Clock::now() < deadline) {
    for (auto& message : dead_letters.value()->receive(10, 100ms)) {
      dead_letters.value()->ack_async(message);
      dead[message.payload] = std::move(message);
    }
  }
  BOOST_REQUIRE_EQUAL(dead.size(), 2u);
  const auto& invalid = dead.at("p-3").attributes;
  BOOST_TEST(invalid.at("i") == "3");  // the original attributes travel along
  BOOST_TEST(invalid.at("dlq.error_kind") == "invalid_data");
  BOOST_TEST(invalid.at("dlq.error_message").find("amount is negative") != std::string::npos);
  BOOST_TEST(invalid.at("dlq.stage") == "process");
  BOOST_TEST(invalid.at("dlq.attempts") == "1");
  BOOST_TEST(invalid.at("dlq.connector") == "payments-sink");
  BOOST_TEST(invalid.at("dlq.origin_topic") == "/default/payments");
  BOOST_TEST(invalid.at("dlq.origin_partition").rfind("/default/payments-part-", 0) == 0u);
  BOOST_TEST(!invalid.at("dlq.offset").empty());
  BOOST_TEST(!invalid.at("dlq.first_failure").empty());

  const auto& exhausted = dead.at("p-7").attributes;
  BOOST_TEST(exhausted.at("dlq.error_kind") == "retryable");
  BOOST_TEST(exhausted.at("dlq.attempts") == "4");  // 1 + max_retries 3
  BOOST_TEST(exhausted.at("dlq.error_message").find("retries exhausted") != std::string::npos);
  BOOST_TEST(exhausted.at("dlq.first_failure") < exhausted.at("dlq.last_failure"));
  BOOST_TEST(exhausted.at("dlq.first_failure") >= services::format_utc_millis(before));

  const auto status = drain(system, runtime);
  BOOST_TEST(status.processed == 8u);
  BOOST_TEST(status.dead_lettered == 2u);
  // The originals were acked once dead-lettered: nothing is left for redelivery.
  std::uint64_t acked = 0;
  for (int p = 0; p < 2; ++p) {
    acked += broker.counters("/default/payments-part-" + std::to_string(p))->acked;
  }
  BOOST_TEST(acked == 10u);
}

namespace {

// Writes one record at a time and stops a partition at its first retryable failure (the
// RecordSinkConnector contract), recording the order in which records were written.
class OrderedSink : public connect::RecordSinkConnector {
 public:
  OrderedSink(std::shared_ptr<RecordingSink::Shared> shared, std::set<std::string> flaky)
      : shared_(std::move(shared)), flaky_(std::move(flaky)) {}
  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ConsumerConfig> consumer_configs() override {
    return {subscription("/default/ledger", "ledger")};
  }
  void process(const connect::SinkRecord& record) override {
    std::lock_guard lock(shared_->mutex);
    const std::string payload(record.as_string());
    const int attempt = ++shared_->attempts[payload];
    if (flaky_.count(payload) && attempt <= 2) throw connect::ConnectorError::retryable("flaky");
    shared_->processed.push_back(record);
    shared_->changed.notify_all();
  }

 private:
  std::shared_ptr<RecordingSink::Shared> shared_;
  std::set<std::string> flaky_;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(order_per_partition_survives_retries, Fixture) {
  broker.create_topic("/default/ledger", true, 2);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto runtime = spawn_sink(
      system, std::make_unique<OrderedSink>(shared, std::set<std::string>{"l-10", "l-33", "l-34"}),
      fast_config(broker.service_url(), "ledger-sink"));
  BOOST_REQUIRE(subscribed(broker, "/default/ledger-part-0", "ledger"));
  BOOST_REQUIRE(subscribed(broker, "/default/ledger-part-1", "ledger"));
  produce(*client, "/default/ledger", 200, "l-", 2, 4);  // keys spread over both partitions
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 200; }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.processed == 200u);

  std::lock_guard lock(shared->mutex);
  std::map<std::string, int> last_per_partition;
  for (const auto& record : shared->processed) {
    const int n = std::stoi(std::string(record.attribute("i").value()));
    auto [last, first] = last_per_partition.try_emplace(record.partition_topic(), n);
    if (!first) {
      BOOST_TEST_CONTEXT(record.partition_topic()) {
        BOOST_TEST(n > last->second);
      }
      last->second = n;
    }
  }
  BOOST_TEST(shared->attempts.at("l-10") == 3);
}

BOOST_FIXTURE_TEST_CASE(a_fatal_connector_is_restarted_with_backoff_and_loses_nothing, Fixture) {
  broker.create_topic("/default/jobs", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  std::atomic<bool> failed_once{false};
  Verdict verdict = [&](const connect::SinkRecord& record,
                        int) -> std::optional<connect::ConnectorError> {
    if (record.as_string() == "j-20" && !failed_once.exchange(true)) {
      return connect::ConnectorError::fatal("lost the database connection");
    }
    return std::nullopt;
  };
  auto config = fast_config(broker.service_url(), "jobs-sink");
  config.supervision.on_fatal = connect::OnFatal::restart;
  config.supervision.restart_backoff_ms = 20;
  config.supervision.max_restart_backoff_ms = 100;
  auto runtime =
      spawn_sink(system,
                 std::make_unique<RecordingSink>(std::vector{subscription("/default/jobs", "jobs")},
                                                 shared, verdict),
                 config);
  BOOST_REQUIRE(subscribed(broker, "/default/jobs", "jobs"));
  produce(*client, "/default/jobs", 50, "j-");
  // After the restart the broker redelivers what the failed pipeline had not acked.
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) {
    std::set<std::string> distinct;
    for (const auto& record : s.processed)
      distinct.insert(std::string(record.as_string()));
    return distinct.size() >= 50;
  }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.restarts == 1u);
  BOOST_TEST(status.state == "stopped");
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->initialize_calls == 2);
  BOOST_TEST(shared->shutdown_calls == 2);  // once before the restart, once at the end
}

BOOST_FIXTURE_TEST_CASE(a_fatal_connector_without_restarts_stops_the_runtime_with_an_error,
                        Fixture) {
  broker.create_topic("/default/fragile", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  Verdict verdict = [](const connect::SinkRecord&, int) -> std::optional<connect::ConnectorError> {
    return connect::ConnectorError::fatal("schema of the target table changed");
  };
  auto runtime =
      spawn_sink(system,
                 std::make_unique<RecordingSink>(
                     std::vector{subscription("/default/fragile", "fragile")}, shared, verdict),
                 fast_config(broker.service_url(), "fragile-sink"));
  caf::scoped_actor self{system};
  self->monitor(runtime);
  BOOST_REQUIRE(subscribed(broker, "/default/fragile", "fragile"));
  produce(*client, "/default/fragile", 5, "f-");
  caf::error reason;
  self->receive([&](const caf::down_msg& down) { reason = down.reason; });
  BOOST_TEST(static_cast<bool>(reason));
  BOOST_TEST(system.render(reason).find("schema of the target table changed") != std::string::npos);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->processed.empty());
  BOOST_TEST(shared->shutdown_calls == 1);  // shutdown() runs after a failure too
}

BOOST_FIXTURE_TEST_CASE(a_stalled_sink_keeps_the_runtime_within_its_in_flight_bound, Fixture) {
  // The broker may push far ahead (large window); only the runtime's credit holds it back.
  testkit::BrokerOptions options;
  options.max_unacked_messages = 100'000;
  testkit::EmbeddedBroker wide_broker(options);
  wide_broker.start();
  client::ClientOptions client_options;
  client_options.service_url = wide_broker.service_url();
  auto wide_client = client::DanubeClient::create(client_options).value();
  wide_broker.create_topic("/default/firehose", true);

  auto shared = std::make_shared<RecordingSink::Shared>();
  std::mutex gate_mutex;
  std::condition_variable gate_changed;
  bool open = false;
  Verdict verdict = [&](const connect::SinkRecord&, int) -> std::optional<connect::ConnectorError> {
    std::unique_lock lock(gate_mutex);
    gate_changed.wait(lock, [&] { return open; });  // the external system hangs
    return std::nullopt;
  };
  auto config = fast_config(wide_broker.service_url(), "stalled-sink");
  config.delivery.max_inflight_records = 200;
  config.processing.batch_size = 50;
  auto runtime =
      spawn_sink(system,
                 std::make_unique<RecordingSink>(
                     std::vector{subscription("/default/firehose", "firehose")}, shared, verdict),
                 config);
  BOOST_REQUIRE(subscribed(wide_broker, "/default/firehose", "firehose"));
  produce(wide_client, "/default/firehose", 5000, "h-");

  // The broker wrote well past the runtime's bound into the client (whose buffer is bounded
  // too, the client tests show how), yet the runtime took exactly its credit.
  BOOST_REQUIRE(wide_broker.wait_for_counters(
      "/default/firehose", [](const testkit::TopicCounters& c) { return c.delivered >= 400; },
      20s));
  caf::scoped_actor self{system};
  auto status_now = [&] {
    RuntimeStatus status;
    self->request(runtime, caf::infinite, status_atom::value)
        .receive([&](const RuntimeStatus& s) { status = s; }, [](const caf::error&) {});
    return status;
  };
  BOOST_TEST(eventually_equal(status_now, 200u));
  BOOST_TEST(status_now().received == 200u);

  {
    std::lock_guard lock(gate_mutex);
    open = true;
  }
  gate_changed.notify_all();
  BOOST_REQUIRE(wait_for(
      *shared, [](const auto& s) { return s.processed.size() >= 5000; }, 60s));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.processed == 5000u);
}

BOOST_FIXTURE_TEST_CASE(a_broker_restart_mid_stream_loses_nothing_on_reliable_topics, Fixture) {
  TempDirectory data;
  testkit::BrokerOptions options;
  options.data_dir = data.path;
  options.fsync = testkit::FsyncPolicy::never;
  testkit::EmbeddedBroker durable(options);
  durable.start();
  client::ClientOptions client_options;
  client_options.service_url = durable.service_url();
  client_options.health_check_interval = 100ms;
  auto durable_client = client::DanubeClient::create(client_options).value();
  durable.create_topic("/default/durable", true);

  auto shared = std::make_shared<RecordingSink::Shared>();
  connect::ConnectorConfig config = fast_config(durable.service_url(), "durable-sink");
  RuntimeServices services;
  services.client = durable_client;
  auto runtime = spawn_sink(system,
                            std::make_unique<RecordingSink>(
                                std::vector{subscription("/default/durable", "durable")}, shared),
                            config, services);
  BOOST_REQUIRE(subscribed(durable, "/default/durable", "durable"));
  produce(durable_client, "/default/durable", 300, "d-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 100; }));
  durable.restart();
  produce(durable_client, "/default/durable", 300, "e-");
  BOOST_REQUIRE(wait_for(
      *shared,
      [](const auto& s) {
        std::set<std::string> distinct;
        for (const auto& record : s.processed)
          distinct.insert(std::string(record.as_string()));
        return distinct.size() >= 600;
      },
      60s));
  drain(system, runtime);
}

namespace {

// Counts what it writes with a metric of its own, registered through the context it was
// initialized with, and logs once it is ready.
class CountingSink : public connect::RecordSinkConnector {
 public:
  explicit CountingSink(std::shared_ptr<RecordingSink::Shared> shared)
      : shared_(std::move(shared)) {}
  void initialize(const connect::ConnectorContext& context) override {
    written_ = &context.metrics().counter("ledger_rows_written_total", "Rows the sink wrote",
                                          {{"table", "ledger"}});
    context.logger().info("counting_sink_ready", {{"connector", context.connector_name()}});
  }
  std::vector<connect::ConsumerConfig> consumer_configs() override {
    return {subscription("/default/counted", "counted")};
  }
  void process(const connect::SinkRecord& record) override {
    written_->increment();
    std::lock_guard lock(shared_->mutex);
    shared_->processed.push_back(record);
    shared_->changed.notify_all();
  }

 private:
  std::shared_ptr<RecordingSink::Shared> shared_;
  connect::Counter* written_ = nullptr;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_connectors_own_metrics_are_served_with_the_runtimes, Fixture) {
  broker.create_topic("/default/counted", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto registry = std::make_shared<prometheus::Registry>();
  RuntimeServices services;
  services.metrics = std::make_shared<services::ConnectorMetrics>("counted-sink", registry);
  auto runtime = spawn_sink(system, std::make_unique<CountingSink>(shared),
                            fast_config(broker.service_url(), "counted-sink"), services);
  BOOST_REQUIRE(subscribed(broker, "/default/counted", "counted"));
  produce(*client, "/default/counted", 40, "c-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 40; }));
  const auto status = drain(system, runtime);
  BOOST_TEST(status.processed == 40u);
  const auto text = services::render_metrics(*registry);
  BOOST_TEST(
      text.find(R"(ledger_rows_written_total{connector="counted-sink",table="ledger"} 40)") !=
          std::string::npos,
      text);
  // Beside the runtime's own families, on the same registry.
  BOOST_TEST(text.find("danube_connector_messages_processed_total") != std::string::npos);
}
