// Source publishes that fail, against the embedded broker's fault injection: transient
// failures (UNAVAILABLE) that outlast the client's own retries are retried by the runtime with
// its [retry] backoff until everything is published; a publish that fails for good (a
// non-retryable status, or retries exhausted) goes to the dead-letter topic with the dlq.*
// attributes, and its offset is committed all the same.
#include <boost/test/unit_test.hpp>

#include "danube/services/dead_letter.hpp"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

constexpr int kUnavailable = 14;
constexpr int kInvalidArgument = 3;
constexpr int kFailedPrecondition = 9;

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(options).value());
    // The runtime's client retries a failed send once, quickly, before it reports it: the
    // runtime's own retries are what these tests watch.
    client::ClientOptions runtime_options = options;
    runtime_options.retry.max_retries = 1;
    runtime_options.retry.base_backoff = 5ms;
    runtime_options.retry.max_backoff = 10ms;
    services.client = client::DanubeClient::create(runtime_options).value();
  }

  connect::ConnectorConfig config(const std::string& name) const {
    return source_config(broker.service_url(), name, state.path);
  }

  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  RuntimeServices services;
  TempDirectory state;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};
};

connect::SourceEnvelope envelope(const std::string& payload, const std::string& partition,
                                 std::uint64_t offset) {
  return {connect::SourceRecord::from_string("", payload).with_attribute("origin", "scripted"),
          connect::Offset(partition, offset)};
}

bool committed(ScriptedSource::Shared& shared, const std::string& partition, std::uint64_t value) {
  return wait_until<ScriptedSource::Shared>(shared, [&](const auto& s) {
    for (const auto& offset : s.committed) {
      if (offset.partition == partition && offset.value == value) return true;
    }
    return false;
  });
}

std::set<std::string> payloads(const std::vector<client::ReceivedMessage>& messages) {
  std::set<std::string> result;
  for (const auto& message : messages)
    result.insert(message.payload);
  return result;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(transient_publish_failures_are_retried_until_everything_is_published,
                        Fixture) {
  const std::string topic = "/default/flaky-publish";
  broker.create_topic(topic, true);
  auto out = reader(*client, topic, "flaky-reader");
  auto shared = std::make_shared<ScriptedSource::Shared>();
  std::set<std::string> expected;
  for (std::uint64_t i = 0; i < 20; ++i) {
    shared->push(envelope("r-" + std::to_string(i), "p", i));
    expected.insert("r-" + std::to_string(i));
  }
  auto settings = config("flaky-source");
  settings.retry.max_retries = 50;  // the outage below ends long before this budget
  // The broker refuses every publish until the runtime itself has retried: the failures went
  // through the client's own retries and its producer re-creation.
  broker.fail_next(testkit::Rpc::send_message, 1'000'000, kUnavailable, "broker busy");
  const auto runtime =
      runtimes.add(spawn_source(system,
                                std::make_unique<ScriptedSource>(
                                    shared, std::vector{connect::ProducerConfig(topic, 0, true)}),
                                settings, services));
  BOOST_REQUIRE(eventually([&] { return status_of(system, runtime).retried >= 2; }));
  BOOST_TEST(broker.counters(topic)->published == 0u);
  broker.fail_next(testkit::Rpc::send_message, 0, kUnavailable);  // the outage ends

  const auto received = receive_n(*out, 20);
  BOOST_TEST(received.size() == 20u);
  BOOST_TEST(payloads(received) == expected);
  BOOST_REQUIRE(committed(*shared, "p", 19));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.processed == 20u);
  BOOST_TEST(drained->status.retried >= 2u);
  BOOST_TEST(drained->status.failed >= 2u);
  BOOST_TEST(drained->status.dead_lettered == 0u);
  BOOST_TEST(drained->status.state == "stopped");
  BOOST_TEST(broker.counters(topic)->published == 20u);
  BOOST_TEST(stored_offset(state.path, "flaky-source", "p").value_or(kNothingStored) == 19u);
}

BOOST_FIXTURE_TEST_CASE(a_publish_refused_for_good_is_dead_lettered_and_its_offset_committed,
                        Fixture) {
  const std::string topic = "/default/fenced";
  broker.create_topic(topic, true);
  broker.create_topic("/default/fenced-source-dlq", true);
  auto out = reader(*client, topic, "fenced-reader");
  auto dead_letters = reader(*client, "/default/fenced-source-dlq", "fenced-dlq-reader");
  auto shared = std::make_shared<ScriptedSource::Shared>();
  const auto before = WallClock::now();

  broker.fail_next(testkit::Rpc::send_message, 1, kFailedPrecondition, "topic is fenced");
  shared->push(envelope("r-0", "p", 0));
  const auto runtime =
      runtimes.add(spawn_source(system,
                                std::make_unique<ScriptedSource>(
                                    shared, std::vector{connect::ProducerConfig(topic, 0, true)}),
                                config("fenced-source"), services));
  auto first = receive_n(*dead_letters, 1);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);

  broker.fail_next(testkit::Rpc::send_message, 1, kInvalidArgument, "payload rejected");
  shared->push(envelope("r-1", "p", 1));
  auto second = receive_n(*dead_letters, 1);
  BOOST_REQUIRE_EQUAL(second.size(), 1u);

  for (std::uint64_t i = 2; i < 5; ++i)
    shared->push(envelope("r-" + std::to_string(i), "p", i));
  const auto published = receive_n(*out, 3);
  BOOST_TEST(payloads(published) == (std::set<std::string>{"r-2", "r-3", "r-4"}));

  const auto& fenced = first[0];
  BOOST_TEST(fenced.payload == "r-0");
  BOOST_TEST(fenced.attributes.at("origin") == "scripted");  // the record's own attributes
  BOOST_TEST(fenced.attributes.at("dlq.stage") == "publish");
  BOOST_TEST(fenced.attributes.at("dlq.error_kind") == "danube");
  BOOST_TEST(fenced.attributes.at("dlq.error_message").find("topic is fenced") !=
             std::string::npos);
  BOOST_TEST(fenced.attributes.at("dlq.error_message").find("grpc 9") != std::string::npos);
  BOOST_TEST(fenced.attributes.at("dlq.attempts") == "1");  // not retryable: not retried
  BOOST_TEST(fenced.attributes.at("dlq.connector") == "fenced-source");
  BOOST_TEST(fenced.attributes.at("dlq.origin_topic") == topic);
  BOOST_TEST(fenced.attributes.at("dlq.origin_partition") == topic);
  BOOST_TEST(fenced.attributes.at("dlq.offset") == "p:0");
  BOOST_TEST(fenced.attributes.at("dlq.first_failure") >= services::format_utc_millis(before));
  BOOST_TEST(fenced.attributes.at("dlq.first_failure") == fenced.attributes.at("dlq.last_failure"));

  const auto& rejected = second[0];
  BOOST_TEST(rejected.payload == "r-1");
  BOOST_TEST(rejected.attributes.at("dlq.error_message").find("payload rejected") !=
             std::string::npos);
  BOOST_TEST(rejected.attributes.at("dlq.error_message").find("grpc 3") != std::string::npos);
  BOOST_TEST(rejected.attributes.at("dlq.offset") == "p:1");
  BOOST_TEST(rejected.attributes.at("dlq.attempts") == "1");

  // Dead-lettered records are settled: the commit covers them and what follows.
  BOOST_REQUIRE(committed(*shared, "p", 4));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.dead_lettered == 2u);
  BOOST_TEST(drained->status.processed == 3u);
  BOOST_TEST(drained->status.retried == 0u);
  BOOST_TEST(broker.counters(topic)->published == 3u);
  BOOST_TEST(stored_offset(state.path, "fenced-source", "p").value_or(kNothingStored) == 4u);
}

BOOST_FIXTURE_TEST_CASE(a_publish_whose_retries_run_out_is_dead_lettered_with_its_attempts,
                        Fixture) {
  const std::string topic = "/default/overloaded";
  broker.create_topic(topic, true);
  broker.create_topic("/default/overloaded-source-dlq", true);
  auto dead_letters = reader(*client, "/default/overloaded-source-dlq", "overloaded-dlq-reader");
  auto shared = std::make_shared<ScriptedSource::Shared>();
  shared->push(envelope("x-0", "x", 0));
  broker.fail_next(testkit::Rpc::send_message, 1'000'000, kUnavailable, "broker overloaded");
  const auto runtime =
      runtimes.add(spawn_source(system,
                                std::make_unique<ScriptedSource>(
                                    shared, std::vector{connect::ProducerConfig(topic, 0, true)}),
                                config("overloaded-source"), services));  // [retry] max_retries = 3
  // Four attempts (1 + max_retries) failed; then the broker takes publishes again, so the dead
  // letter itself can be published.
  BOOST_REQUIRE(eventually([&] { return status_of(system, runtime).failed >= 4; }));
  broker.fail_next(testkit::Rpc::send_message, 0, kUnavailable);

  const auto dead = receive_n(*dead_letters, 1);
  BOOST_REQUIRE_EQUAL(dead.size(), 1u);
  const auto& attributes = dead[0].attributes;
  BOOST_TEST(dead[0].payload == "x-0");
  BOOST_TEST(attributes.at("dlq.stage") == "publish");
  BOOST_TEST(attributes.at("dlq.attempts") == "4");
  BOOST_TEST(attributes.at("dlq.error_kind") == "danube");
  BOOST_TEST(attributes.at("dlq.error_message").find("broker overloaded") != std::string::npos);
  BOOST_TEST(attributes.at("dlq.error_message").find("grpc 14") != std::string::npos);
  BOOST_TEST(attributes.at("dlq.offset") == "x:0");
  BOOST_TEST(attributes.at("dlq.first_failure") < attributes.at("dlq.last_failure"));

  BOOST_REQUIRE(committed(*shared, "x", 0));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.failed == 4u);
  BOOST_TEST(drained->status.retried == 3u);
  BOOST_TEST(drained->status.dead_lettered == 1u);
  BOOST_TEST(drained->status.processed == 0u);
  BOOST_TEST(broker.counters(topic)->published == 0u);
  BOOST_TEST(stored_offset(state.path, "overloaded-source", "x").value_or(kNothingStored) == 0u);
}
