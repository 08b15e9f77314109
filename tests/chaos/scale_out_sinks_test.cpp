// Scaling a sink out (docs/scaling.md): two or three sink processes on one Shared subscription,
// three on one KeyShared subscription, of a 6-partition topic; and three Exclusive sinks, each
// subscribed to one partition of a 3-partition topic by its name. In the normal case, nobody
// killed, every message is processed by exactly one instance: the union of their outputs is
// what was sent, without a duplicate. (One instance SIGKILLed mid-stream:
// chaos_shared_scale_out_test.)
//
// What each layout promises, checked record by record:
// - Shared deals every partition's messages round robin over the instances (protocol.md
//   §2.9), so each instance gets an equal share of every partition, and sees its share of a
//   partition in order; no instance sees a whole partition.
// - KeyShared keeps all messages of a key at one instance, in order.
// - Exclusive per partition: each instance gets its whole partition, in order, and nothing else.
//
// The broker's ack timeout is raised out of reach: this is the case without redelivery, and a
// sink stalled for 30 s by a loaded machine would otherwise get duplicates this test is not about.
#include <map>

#include "danube/client/partitioning.hpp"
#include "scale_out_support.hpp"

using namespace danube::chaos;

namespace {

constexpr std::size_t kPartitions = 6;  // Shared and KeyShared; pinned: one per instance
constexpr std::uint64_t kMessages = 12'000;
constexpr std::size_t kKeys = 48;
const std::string kTopic = "/default/scale-out";
const std::string kSubscription = "scale-sub";

// simple_source routes message n by the key "key-<n mod keys>".
std::uint64_t key_of(std::uint64_t number) {
  return number % kKeys;
}
std::size_t partition_of(std::uint64_t number, std::size_t partitions = kPartitions) {
  return danube::client::partition_for_key("key-" + std::to_string(key_of(number)), partitions);
}

// Runs `instances` chaos sinks on one subscription of `type` while a source publishes
// kMessages; returns each instance's numbers in the order it wrote them (empty on failure).
// `pinned`: the topic has one partition per instance, and instance i subscribes to partition i
// by its name (`<topic>-part-<i>`) instead of to the whole topic.
std::vector<std::vector<std::uint64_t>> run(const std::string& type, std::size_t instances,
                                            bool pinned = false) {
  const auto started = Clock::now();
  const std::size_t partitions = pinned ? instances : kPartitions;
  ScratchDirectory dir("scale-out-" + type + "-" + std::to_string(instances));
  BrokerProcess broker(kBrokerBinary, dir.path(),
                       {"--topic", kTopic + ":partitions=" + std::to_string(partitions),
                        "--max-unacked", "500", "--ack-timeout-ms", "600000"});
  broker.start();
  LogWatcher broker_log(dir.path() / "broker.1.log");

  Ledger ledger(kMessages);
  std::vector<std::filesystem::path> outputs;
  std::vector<std::unique_ptr<ConnectorProcess>> sinks;
  for (std::size_t i = 0; i < instances; ++i) {
    outputs.push_back(dir.path() / ("records-" + std::to_string(i) + ".txt"));
    ConnectorToml toml;
    toml.service_url = broker.service_url();
    toml.connector_name = "scale-sink-" + std::to_string(i);  // one per instance: its state files
    toml.batch_size = 100;
    const auto topic = pinned ? kTopic + "-part-" + std::to_string(i) : kTopic;
    toml.extra = chaos_sink_table(topic, kSubscription, "scale-consumer-" + std::to_string(i), type,
                                  outputs.back());
    sinks.push_back(make_connector(dir, "sink-" + std::to_string(i), kChaosSinkBinary, toml));
    ledger.follow(outputs.back());
  }
  std::vector<ConnectorProcess*> everyone;
  for (auto& sink : sinks) {
    sink->start();
    everyone.push_back(sink.get());
  }
  const std::size_t streams = pinned ? instances : instances * partitions;
  if (!wait_for_streams(broker_log, kSubscription, streams, everyone)) return {};

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = partitions;
  source_settings.keys = kKeys;
  source_settings.batch = 200;
  source_settings.interval_ms = 0;
  source_settings.state_dir = dir.path() / "source-state";
  ConnectorToml source_toml;
  source_toml.service_url = broker.service_url();
  source_toml.connector_name = "scale-source";
  source_toml.extra = source_tables(source_settings);
  auto source = make_connector(dir, "source", kSimpleSourceBinary, source_toml);
  source->start();
  everyone.push_back(source.get());

  const bool complete = wait_for_ledger(
      ledger, [](const Ledger& l) { return l.complete(); }, 120s, everyone,
      "every message at one of the sinks");
  const auto exits = signal_all(everyone, SIGTERM, 30s);
  ledger.poll();

  std::vector<std::vector<std::uint64_t>> numbers;
  std::vector<std::uint64_t> shares;
  for (const auto& output : outputs) {
    numbers.push_back(numbers_in(output));
    shares.push_back(numbers.back().size());
  }
  print_figures("scale_out_sinks", {{"type", type},
                                    {"instances", std::to_string(instances)},
                                    {"sent", std::to_string(kMessages)},
                                    {"partitions", std::to_string(partitions)},
                                    {"pinned", pinned ? "true" : "false"},
                                    {"received", std::to_string(ledger.records())},
                                    {"lost", std::to_string(ledger.lost())},
                                    {"duplicates", std::to_string(ledger.duplicates())},
                                    {"per_sink", join(shares)},
                                    {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(complete);
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.duplicates() == 0u);
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(ledger.torn() == 0u);
  for (std::size_t i = 0; i < exits.size(); ++i)
    BOOST_TEST(exits[i].clean(), everyone[i]->name() << " " << exits[i].describe());
  return complete ? numbers : std::vector<std::vector<std::uint64_t>>{};
}

// numbers split by partition, each list in the order written.
std::vector<std::vector<std::uint64_t>> by_partition(const std::vector<std::uint64_t>& numbers) {
  std::vector<std::vector<std::uint64_t>> split(kPartitions);
  for (const auto number : numbers)
    split[partition_of(number)].push_back(number);
  return split;
}

void check_shared(const std::vector<std::vector<std::uint64_t>>& instances) {
  BOOST_REQUIRE(!instances.empty());
  // Round robin per partition: each instance gets floor or ceil of a partition's count.
  std::vector<std::uint64_t> per_partition(kPartitions, 0);
  for (std::uint64_t n = 0; n < kMessages; ++n)
    ++per_partition[partition_of(n)];
  for (std::size_t i = 0; i < instances.size(); ++i) {
    const auto split = by_partition(instances[i]);
    for (std::size_t p = 0; p < kPartitions; ++p) {
      const auto fair = per_partition[p] / instances.size();
      BOOST_TEST(split[p].size() >= fair);
      BOOST_TEST(split[p].size() <= fair + 1, "sink-" << i << " partition " << p << ": got "
                                                      << split[p].size() << " of "
                                                      << per_partition[p]);
      std::string where;
      BOOST_TEST(ascending(split[p], where),
                 "sink-" << i << " partition " << p << " out of order: " << where);
    }
  }
}

void check_key_shared(const std::vector<std::vector<std::uint64_t>>& instances) {
  BOOST_REQUIRE(!instances.empty());
  std::map<std::uint64_t, std::set<std::size_t>> owners;  // key -> instances that saw it
  for (std::size_t i = 0; i < instances.size(); ++i) {
    std::map<std::uint64_t, std::vector<std::uint64_t>> keys;
    for (const auto number : instances[i])
      keys[key_of(number)].push_back(number);
    BOOST_TEST(!keys.empty(), "sink-" << i << " owns no key");
    for (const auto& [key, numbers] : keys) {
      owners[key].insert(i);
      std::string where;
      BOOST_TEST(ascending(numbers, where),
                 "sink-" << i << " key-" << key << " out of order: " << where);
    }
  }
  BOOST_TEST(owners.size() == kKeys);
  for (const auto& [key, at] : owners)
    BOOST_TEST(at.size() == 1u, "key-" << key << " went to " << at.size() << " instances");
}

void check_pinned(const std::vector<std::vector<std::uint64_t>>& instances) {
  BOOST_REQUIRE(!instances.empty());
  const std::size_t partitions = instances.size();
  std::vector<std::uint64_t> per_partition(partitions, 0);
  for (std::uint64_t n = 0; n < kMessages; ++n)
    ++per_partition[partition_of(n, partitions)];
  for (std::size_t i = 0; i < instances.size(); ++i) {
    BOOST_TEST(instances[i].size() == per_partition[i],
               "sink-" << i << " got " << instances[i].size() << " of " << per_partition[i]);
    for (const auto number : instances[i]) {
      if (partition_of(number, partitions) != i) {
        BOOST_ERROR("sink-" << i << " got #" << number << " of partition "
                            << partition_of(number, partitions));
        break;
      }
    }
    std::string where;
    BOOST_TEST(ascending(instances[i], where), "sink-" << i << " out of order: " << where);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(two_shared_sinks_split_every_partition) {
  check_shared(run("Shared", 2));
}

BOOST_AUTO_TEST_CASE(three_shared_sinks_split_every_partition) {
  check_shared(run("Shared", 3));
}

BOOST_AUTO_TEST_CASE(three_key_shared_sinks_each_own_whole_keys) {
  check_key_shared(run("KeyShared", 3));
}

BOOST_AUTO_TEST_CASE(three_exclusive_sinks_one_partition_each_keep_order) {
  check_pinned(run("Exclusive", 3, /*pinned=*/true));
}
