// Scaling a source out (docs/scaling.md): one source process per partition set. Three
// simple_source processes publish side by side, each to its own partition of /default/ingest
// (`topic = "/default/ingest-part-<i>"`, `partitions = 0`: a partition is an ordinary topic on
// the wire, protocol.md §2.11), each with its own connector_name, hence its own producer name
// and its own offsets file in the state directory they share, and its own range of numbers
// (`first_number`). One Exclusive sink subscribed to the base name finds the three partitions
// and must receive the union: every number once, each instance's numbers in the order it
// published them.
#include <set>

#include "scale_out_support.hpp"

using namespace danube::chaos;

namespace {

constexpr std::size_t kSources = 3;
constexpr std::uint64_t kPerSource = 5'000;
constexpr std::uint64_t kMessages = kSources * kPerSource;
const std::string kTopic = "/default/ingest";
const std::string kSubscription = "ingest-sub";

std::string partition_topic(std::size_t partition) {
  return kTopic + "-part-" + std::to_string(partition);
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_source_per_partition_delivers_the_union) {
  const auto started = Clock::now();
  ScratchDirectory dir("scale-out-sources");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=" + std::to_string(kSources), "--max-unacked", "500"});
  broker.start();
  LogWatcher broker_log(dir.path() / "broker.1.log");

  // The sink first: a new subscription starts at the newest message.
  Ledger ledger(kMessages);
  const auto output = dir.path() / "records.txt";
  ConnectorToml sink_toml;
  sink_toml.service_url = broker.service_url();
  sink_toml.connector_name = "ingest-sink";
  sink_toml.extra = chaos_sink_table(kTopic, kSubscription, "ingest-consumer", "Exclusive", output);
  auto sink = make_connector(dir, "sink", kChaosSinkBinary, sink_toml);
  ledger.follow(output);
  sink->start();
  std::vector<ConnectorProcess*> everyone = {sink.get()};
  BOOST_REQUIRE(wait_for_streams(broker_log, kSubscription, kSources, everyone));

  const auto state_dir = dir.path() / "source-state";  // shared: the files are per connector
  std::vector<std::unique_ptr<ConnectorProcess>> sources;
  for (std::size_t i = 0; i < kSources; ++i) {
    SourceSettings settings;
    settings.topic = partition_topic(i);
    settings.count = kPerSource;
    settings.partitions = 0;
    settings.batch = 100;
    settings.interval_ms = 0;
    settings.state_dir = state_dir;
    ConnectorToml toml;
    toml.service_url = broker.service_url();
    toml.connector_name = "ingest-source-" + std::to_string(i);
    // source_tables() ends with the [simple_source] table: this key belongs to it.
    toml.extra =
        source_tables(settings) + "first_number = " + std::to_string(i * kPerSource) + "\n";
    sources.push_back(
        make_connector(dir, "source-" + std::to_string(i), kSimpleSourceBinary, toml));
  }
  for (auto& source : sources) {
    source->start();
    everyone.push_back(source.get());
  }

  const bool complete = wait_for_ledger(
      ledger, [](const Ledger& l) { return l.complete(); }, 120s, everyone,
      "the three sources' messages at the sink");
  const auto exits = signal_all(everyone, SIGTERM, 30s);
  ledger.poll();

  // Each instance's numbers in the order the sink wrote them.
  std::vector<std::vector<std::uint64_t>> per_source(kSources);
  for (const auto number : numbers_in(output)) {
    if (number < kMessages) per_source[number / kPerSource].push_back(number);
  }
  // Each partition was published to by exactly one producer, named after its instance.
  std::vector<std::set<std::string>> producers(kSources);
  for (const auto& line : broker_log.lines_with("event=producer_created")) {
    const auto topic = log_field(line, "topic").value_or("");
    for (std::size_t i = 0; i < kSources; ++i) {
      if (topic == partition_topic(i))
        producers[i].insert(log_field(line, "producer").value_or(""));
    }
  }
  std::vector<std::uint64_t> counts;
  for (const auto& numbers : per_source)
    counts.push_back(numbers.size());
  print_figures("scale_out_sources", {{"sources", std::to_string(kSources)},
                                      {"sent", std::to_string(kMessages)},
                                      {"received", std::to_string(ledger.records())},
                                      {"lost", std::to_string(ledger.lost())},
                                      {"duplicates", std::to_string(ledger.duplicates())},
                                      {"per_source", join(counts)},
                                      {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(complete);
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.duplicates() == 0u);
  BOOST_TEST(ledger.foreign() == 0u);
  for (std::size_t i = 0; i < kSources; ++i) {
    BOOST_TEST(per_source[i].size() == kPerSource);
    std::string where;
    BOOST_TEST(ascending(per_source[i], where), "source-" << i << " out of order: " << where);
    BOOST_TEST(producers[i].size() == 1u, partition_topic(i)
                                              << " had " << producers[i].size() << " producers");
    for (const auto& name : producers[i]) {
      BOOST_TEST(name.find("ingest-source-" + std::to_string(i)) == 0u,
                 partition_topic(i) << " was published by " << name);
    }
    BOOST_TEST(std::filesystem::exists(state_dir /
                                       ("ingest-source-" + std::to_string(i) + ".offsets.json")),
               "source-" << i << " has no offsets file of its own");
  }
  for (std::size_t i = 0; i < exits.size(); ++i)
    BOOST_TEST(exits[i].clean(), everyone[i]->name() << " " << exits[i].describe());
}
