// [delivery] max_inflight_acks bounds the Ack calls a sink keeps open per consumed partition:
// each open call holds gRPC call memory, so the bound is what keeps a backlog drain's memory
// flat (docs/memory.md). The broker holds every Ack for a while, so the calls pile up to
// whatever the sink allows, and the test watches how many it holds at once.
#include <boost/test/unit_test.hpp>

#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kPartitions = 2;
constexpr int kCount = 60;

struct Drain {
  std::size_t max_acks_held = 0;  // Ack calls the broker held at once
  std::set<std::string> processed;
  RuntimeStatus status;
};

Drain drain_with_slow_acks(std::uint32_t max_inflight_acks, std::chrono::milliseconds ack_latency) {
  testkit::BrokerOptions broker_options;
  broker_options.max_unacked_messages = 100;  // the broker's window is not what limits the acks
  testkit::EmbeddedBroker broker(broker_options);
  broker.start();
  client::ClientOptions options;
  options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(options).value();
  const std::string topic = "/default/acked";
  broker.create_topic(topic, true, kPartitions);
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};

  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(broker.service_url(), "ack-window-sink");
  config.delivery.max_inflight_acks = max_inflight_acks;
  broker.set_latency(testkit::Rpc::ack, ack_latency);
  const auto runtime = runtimes.add(spawn_sink(
      system, std::make_unique<RecordingSink>(std::vector{subscription(topic, "acked")}, shared),
      config));
  BOOST_REQUIRE(eventually([&] { return status_of(system, runtime).state == "running"; }));
  produce(client, topic, kCount, "a-", kPartitions);

  Drain drain;
  std::uint64_t acked = 0;
  // Re-evaluated at every change of the broker's state, including each held call.
  const bool all_acked = broker.wait_until(
      [&] {
        drain.max_acks_held = std::max(drain.max_acks_held, broker.delayed_calls());
        acked = 0;
        for (std::size_t p = 0; p < kPartitions; ++p) {
          const auto counters = broker.counters(topic + "-part-" + std::to_string(p));
          if (counters) acked += counters->acked;
        }
        return acked >= std::uint64_t(kCount);
      },
      60s);
  BOOST_REQUIRE_MESSAGE(all_acked, "acked " << acked << " of " << kCount);
  broker.set_latency(testkit::Rpc::ack, 0ms);
  drain.processed = processed_payloads(*shared);
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  drain.status = drained->status;
  return drain;
}

std::set<std::string> expected_payloads() {
  std::set<std::string> payloads;
  for (int i = 0; i < kCount; ++i)
    payloads.insert("a-" + std::to_string(i));
  return payloads;
}

}  // namespace

BOOST_AUTO_TEST_CASE(max_inflight_acks_bounds_the_ack_calls_of_each_partition) {
  // Each record starts its ack as soon as it is processed, so within 300 ms more than 3 per
  // partition are ready to go even on a loaded machine: the limit is what holds them back.
  const Drain drain = drain_with_slow_acks(3, 300ms);
  BOOST_TEST_MESSAGE("limit 3 per partition: at most " << drain.max_acks_held << " acks held");
  BOOST_TEST(drain.max_acks_held <= 3 * kPartitions);
  BOOST_TEST(drain.max_acks_held >= 3u);  // the calls did overlap
  BOOST_TEST(drain.processed == expected_payloads());
  BOOST_TEST(drain.status.processed == std::uint64_t(kCount));
  BOOST_TEST(drain.status.lost == 0u);
}

// The control: with a wider limit the same observation sees more calls at once, so the bound
// above is the setting's doing and not the broker's or the observation's.
BOOST_AUTO_TEST_CASE(a_wider_limit_lets_more_acks_overlap) {
  // Held for 5 s: every record is processed and its ack started before the first is answered,
  // however slowly a loaded machine runs the sink, so the count seen is the sink's limit, not
  // its speed.
  const Drain drain = drain_with_slow_acks(32, 5000ms);
  BOOST_TEST_MESSAGE("limit 32 per partition: at most " << drain.max_acks_held << " acks held");
  BOOST_TEST(drain.max_acks_held > 3 * kPartitions);
  BOOST_TEST(drain.processed == expected_payloads());
  BOOST_TEST(drain.status.processed == std::uint64_t(kCount));
}
