// The sink's [dead_letter] policies besides the default one, for records that failed for good
// (invalid data, retries exhausted): `skip` acks and counts them, never hands them over again
// and publishes nothing to the dead-letter topic; `fail` stops the runtime with an error exit
// reason that keeps the error's kind, and leaves the record unacked, so the next subscriber
// gets it.
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
  RuntimeGuard runtimes{system};
};

std::set<std::string> payloads_of(const RecordingSink::Shared& shared) {
  std::set<std::string> payloads;
  for (const auto& record : shared.processed)
    payloads.insert(std::string(record.as_string()));
  return payloads;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(skip_acks_and_counts_failed_records_and_never_delivers_them_again,
                        Fixture) {
  const std::string topic = "/default/skipping";
  broker.create_topic(topic, true);
  broker.create_topic("/default/skip-sink-dlq", true);  // exists, so its counters can be read
  auto shared = std::make_shared<RecordingSink::Shared>();
  Verdict verdict = [](const connect::SinkRecord& record,
                       int) -> std::optional<connect::ConnectorError> {
    if (record.as_string() == "s-3") return connect::ConnectorError::invalid_data("bad amount");
    if (record.as_string() == "s-7") return connect::ConnectorError::retryable("ledger timeout");
    return std::nullopt;
  };
  auto config = fast_config(broker.service_url(), "skip-sink");
  config.dead_letter.policy = connect::DeadLetterPolicy::skip;
  const auto runtime =
      runtimes.add(spawn_sink(system,
                              std::make_unique<RecordingSink>(
                                  std::vector{subscription(topic, "skipping")}, shared, verdict),
                              config));
  BOOST_REQUIRE(subscribed(broker, topic, "skipping"));
  produce(*client, topic, 10, "s-");

  // Skipped records are acked like processed ones: all ten settle at the broker.
  BOOST_REQUIRE(broker.wait_for_counters(
      topic, [](const testkit::TopicCounters& c) { return c.acked >= 10; }, 30s));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  const RuntimeStatus& status = drained->status;
  BOOST_TEST(status.state == "stopped");
  BOOST_TEST(status.skipped == 2u);
  BOOST_TEST(status.processed == 8u);
  BOOST_TEST(status.dead_lettered == 0u);
  BOOST_TEST(status.retried == 3u);  // s-7: max_retries
  BOOST_TEST(status.failed == 5u);   // s-3 once, s-7 four times
  {
    std::lock_guard lock(shared->mutex);
    BOOST_TEST(shared->attempts.at("s-3") == 1);  // invalid data is not retried
    BOOST_TEST(shared->attempts.at("s-7") == 4);  // 1 + max_retries
    BOOST_TEST(payloads_of(*shared).count("s-3") == 0u);
    BOOST_TEST(payloads_of(*shared).count("s-7") == 0u);
  }
  BOOST_TEST(broker.counters(topic)->acked == 10u);
  BOOST_TEST(broker.counters(topic)->redelivered == 0u);
  BOOST_TEST(broker.counters("/default/skip-sink-dlq")->published == 0u);

  // The next subscriber of the subscription gets only what is new: nothing skipped comes back.
  auto next = std::make_shared<RecordingSink::Shared>();
  const auto successor = runtimes.add(spawn_sink(
      system, std::make_unique<RecordingSink>(std::vector{subscription(topic, "skipping")}, next),
      fast_config(broker.service_url(), "skip-sink-successor")));
  BOOST_REQUIRE(subscribed(broker, topic, "skipping"));
  produce(*client, topic, 1, "after-");
  BOOST_REQUIRE(wait_for(*next, [](const auto& s) { return !s.processed.empty(); }));
  const auto second = drain_and_wait(system, successor);
  BOOST_REQUIRE(second);
  std::lock_guard lock(next->mutex);
  BOOST_TEST(payloads_of(*next) == std::set<std::string>{"after-0"});
  BOOST_TEST(next->attempts.size() == 1u);
}

BOOST_FIXTURE_TEST_CASE(fail_stops_the_runtime_and_leaves_the_record_for_the_next_subscriber,
                        Fixture) {
  const std::string topic = "/default/strict-ledger";
  broker.create_topic(topic, true);
  broker.create_topic("/default/fail-sink-dlq", true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  Verdict verdict = [](const connect::SinkRecord& record,
                       int) -> std::optional<connect::ConnectorError> {
    if (record.as_string() == "f-3") return connect::ConnectorError::invalid_data("corrupt row");
    return std::nullopt;
  };
  auto config = fast_config(broker.service_url(), "fail-sink");
  config.dead_letter.policy = connect::DeadLetterPolicy::fail;
  const auto runtime = runtimes.add(spawn_sink(
      system,
      std::make_unique<RecordingSink>(std::vector{subscription(topic, "ledger")}, shared, verdict),
      config));
  BOOST_REQUIRE(subscribed(broker, topic, "ledger"));
  produce(*client, topic, 6, "f-");

  const auto reason = wait_for_exit(system, runtime);
  BOOST_REQUIRE_MESSAGE(reason, "the runtime did not stop");
  BOOST_TEST(static_cast<bool>(*reason));  // an error exit reason, not a clean stop
  BOOST_CHECK(failure_kind(*reason) == std::optional(connect::ErrorKind::invalid_data));
  BOOST_TEST(system.render(*reason).find("corrupt row") != std::string::npos);
  BOOST_TEST(!is_drain_incomplete(*reason));
  {
    std::lock_guard lock(shared->mutex);
    BOOST_TEST(shared->attempts.at("f-3") == 1);
    BOOST_TEST(payloads_of(*shared).count("f-3") == 0u);
    BOOST_TEST(shared->shutdown_calls == 1);
  }
  BOOST_TEST(broker.counters("/default/fail-sink-dlq")->published == 0u);
  // f-3 (offset 3) was never acked: the subscription's cursor cannot be past it.
  const auto left = broker.subscription(topic, "ledger");
  BOOST_REQUIRE(left);
  BOOST_TEST(left->cursor <= 3u);

  // The broker hands the record to whoever subscribes next.
  auto next = std::make_shared<RecordingSink::Shared>();
  const auto successor = runtimes.add(spawn_sink(
      system, std::make_unique<RecordingSink>(std::vector{subscription(topic, "ledger")}, next),
      fast_config(broker.service_url(), "fail-sink-successor")));
  BOOST_REQUIRE(wait_for(*next, [](const auto& s) { return payloads_of(s).count("f-3") == 1; }));
  const auto second = drain_and_wait(system, successor);
  BOOST_REQUIRE(second);
  BOOST_TEST(second->status.processed >= 1u);
}
