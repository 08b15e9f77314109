// [delivery] ordering = "relaxed" for sources: the producer keeps several sends in flight on
// one partition (up to max_inflight_sends), where "strict" keeps one, and still publishes
// every record, each once, and commits them all. The per-partition order is not promised.
#include <boost/test/unit_test.hpp>

#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

struct Run {
  std::size_t max_sends_in_flight = 0;  // seen at the broker
  std::vector<std::string> received;    // in arrival order
  std::optional<std::uint64_t> stored;
  RuntimeStatus status;
};

// Publishes `count` records through a source with `ordering` against a broker that answers
// each publish after a delay, and watches how many publishes the broker holds at once.
Run publish(connect::Ordering ordering, std::uint32_t max_inflight_sends, std::uint64_t count) {
  testkit::EmbeddedBroker broker;
  broker.start();
  client::ClientOptions options;
  options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(options).value();
  const std::string topic = "/default/ordered";
  broker.create_topic(topic, true);
  auto out = reader(client, topic, "ordered-reader");
  TempDirectory state;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};

  auto shared = std::make_shared<ScriptedSource::Shared>();
  for (std::uint64_t i = 0; i < count; ++i) {
    shared->push({connect::SourceRecord::from_string("", "o-" + std::to_string(i)),
                  connect::Offset("o", i)});
  }
  auto config = source_config(broker.service_url(), "ordered-source", state.path);
  config.delivery.ordering = ordering;
  config.delivery.max_inflight_sends = max_inflight_sends;
  broker.set_latency(testkit::Rpc::send_message, 20ms);
  Run run;
  const auto runtime =
      runtimes.add(spawn_source(system,
                                std::make_unique<ScriptedSource>(
                                    shared, std::vector{connect::ProducerConfig(topic, 0, true)}),
                                config));
  // Re-evaluated at every change of the broker's state, including each held publish.
  const bool all_published = broker.wait_until(
      [&] {
        run.max_sends_in_flight = std::max(run.max_sends_in_flight, broker.delayed_calls());
        return broker.counters(topic)->published >= count;
      },
      60s);
  BOOST_REQUIRE(all_published);
  broker.set_latency(testkit::Rpc::send_message, 0ms);
  for (auto& message : receive_n(*out, count))
    run.received.push_back(message.payload);
  BOOST_REQUIRE(wait_until<ScriptedSource::Shared>(*shared, [&](const auto& s) {
    return !s.committed.empty() && s.committed.back().value == count - 1;
  }));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  run.status = drained->status;
  run.stored = stored_offset(state.path, "ordered-source", "o");
  BOOST_TEST(broker.counters(topic)->published == count);
  return run;
}

std::set<std::string> expected_payloads(std::uint64_t count) {
  std::set<std::string> payloads;
  for (std::uint64_t i = 0; i < count; ++i)
    payloads.insert("o-" + std::to_string(i));
  return payloads;
}

}  // namespace

BOOST_AUTO_TEST_CASE(relaxed_ordering_pipelines_sends_on_one_partition_and_publishes_everything) {
  constexpr std::uint64_t kCount = 300;
  const Run run = publish(connect::Ordering::relaxed, 16, kCount);
  BOOST_TEST_MESSAGE("relaxed: at most " << run.max_sends_in_flight << " sends in flight");
  BOOST_TEST(run.max_sends_in_flight >= 4u);
  BOOST_TEST(run.max_sends_in_flight <= 16u);  // max_inflight_sends still bounds them
  BOOST_TEST(run.received.size() == kCount);
  const std::set<std::string> distinct(run.received.begin(), run.received.end());
  BOOST_TEST(distinct == expected_payloads(kCount));  // each record once, none missing
  BOOST_TEST(run.status.processed == kCount);
  BOOST_TEST(run.status.failed == 0u);
  BOOST_TEST(run.stored.value_or(kNothingStored) == kCount - 1);
}

BOOST_AUTO_TEST_CASE(strict_ordering_keeps_one_send_in_flight_and_the_order) {
  // The control: the same observation sees one publish at a time, in order.
  constexpr std::uint64_t kCount = 40;
  const Run run = publish(connect::Ordering::strict, 16, kCount);
  BOOST_TEST_MESSAGE("strict: at most " << run.max_sends_in_flight << " sends in flight");
  BOOST_TEST(run.max_sends_in_flight == 1u);
  BOOST_REQUIRE_EQUAL(run.received.size(), kCount);
  for (std::uint64_t i = 0; i < kCount; ++i) {
    BOOST_TEST(run.received[i] == "o-" + std::to_string(i));
  }
  BOOST_TEST(run.stored.value_or(kNothingStored) == kCount - 1);
}
