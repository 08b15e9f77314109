// Chaos scenario 6: three sink processes share one Shared subscription (how users scale a
// sink out across machines); one of them is SIGKILLed mid-run and stays dead. The broker hands
// its unacked messages to the two survivors: nothing is lost, and the duplicates (what the
// killed sink wrote but had not acked) stay within its in-flight window.
#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 30'000;
constexpr std::size_t kPartitions = 4;
constexpr std::size_t kSinks = 3;
constexpr std::size_t kVictim = 1;
constexpr std::uint64_t kMaxUnackedPerPartition = 250;
constexpr std::uint64_t kInflightWindow = kPartitions * kMaxUnackedPerPartition;
const std::string kTopic = "/default/chaos-shared";

}  // namespace

BOOST_AUTO_TEST_CASE(one_of_three_shared_sinks_sigkilled_loses_nothing) {
  const auto started = Clock::now();
  ScratchDirectory dir("shared-scale-out");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=" + std::to_string(kPartitions), "--max-unacked",
       std::to_string(kMaxUnackedPerPartition), "--log-level", "warn"});
  broker.start();

  Ledger ledger(kMessages);
  std::vector<std::unique_ptr<ConnectorProcess>> sinks;
  for (std::size_t i = 0; i < kSinks; ++i) {
    const auto output = dir.path() / ("records-" + std::to_string(i) + ".txt");
    ConnectorToml toml;
    toml.service_url = broker.service_url();
    toml.connector_name = "chaos-sink-" + std::to_string(i);
    toml.batch_size = 100;
    toml.max_inflight_records = kInflightWindow;
    toml.extra = chaos_sink_table(kTopic, "shared-sub", "chaos-sink-consumer-" + std::to_string(i),
                                  "Shared", output);
    sinks.push_back(make_connector(dir, "sink-" + std::to_string(i), kChaosSinkBinary, toml));
    ledger.follow(output);
  }
  for (auto& sink : sinks)
    sink->start();

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = kPartitions;
  source_settings.keys = 64;
  source_settings.batch = 50;
  source_settings.interval_ms = 10;
  source_settings.state_dir = dir.path() / "source-state";
  ConnectorToml source_toml;
  source_toml.service_url = broker.service_url();
  source_toml.connector_name = "chaos-source";
  source_toml.extra = source_tables(source_settings);
  auto source = make_connector(dir, "source", kSimpleSourceBinary, source_toml);
  source->start();

  std::vector<ConnectorProcess*> everyone = {source.get()};
  for (auto& sink : sinks)
    everyone.push_back(sink.get());
  BOOST_REQUIRE(wait_for_ledger(
      ledger,
      [](const Ledger& l) { return l.records() >= kMessages / 3 && l.records_in(kVictim) > 0; },
      kStepTimeout, everyone, "a third of the messages, some at the victim"));
  // The segment ends before the kill: once the victim is gone the broker redelivers its unacked
  // messages, and a survivor can write them before a segment begun after the kill would start
  // (2 such duplicates were once counted as "before the kill").
  ledger.begin_segment();
  const auto killed = sinks[kVictim]->kill();
  BOOST_TEST_REQUIRE(killed.signal == SIGKILL, "victim was " << killed.describe());
  std::vector<std::uint64_t> at_kill;
  for (std::size_t i = 0; i < kSinks; ++i)
    at_kill.push_back(ledger.records_in(i));

  std::vector<ConnectorProcess*> survivors = {source.get()};
  for (std::size_t i = 0; i < kSinks; ++i) {
    if (i != kVictim) survivors.push_back(sinks[i].get());
  }
  const bool complete = wait_for_ledger(
      ledger, [](const Ledger& l) { return l.complete(); }, 120s, survivors,
      "every message at the surviving sinks");
  const auto exits = signal_all(survivors, SIGTERM, 30s);
  ledger.poll();

  std::vector<std::uint64_t> totals;
  std::vector<std::uint64_t> after_kill;
  for (std::size_t i = 0; i < kSinks; ++i) {
    totals.push_back(ledger.records_in(i));
    after_kill.push_back(ledger.records_in(i) - at_kill[i]);
  }
  std::string exit_text;
  for (std::size_t i = 0; i < exits.size(); ++i)
    exit_text += (i ? "," : "") + survivors[i]->name() + ":" + exits[i].describe();
  print_figures("shared_scale_out", {{"sent", std::to_string(kMessages)},
                                     {"sinks", std::to_string(kSinks)},
                                     {"received", std::to_string(ledger.records())},
                                     {"lost", std::to_string(ledger.lost())},
                                     {"duplicates", std::to_string(ledger.duplicates())},
                                     {"max_inflight", std::to_string(kInflightWindow)},
                                     {"per_sink", join(totals)},
                                     {"per_sink_after_kill", join(after_kill)},
                                     {"victim", "sink-" + std::to_string(kVictim)},
                                     {"torn_lines", std::to_string(ledger.torn())},
                                     {"exits", "\"" + exit_text + "\""},
                                     {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(complete);
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(ledger.duplicates_per_segment().front() == 0u);  // nothing twice before the kill
  BOOST_TEST(ledger.duplicates() <= kInflightWindow);
  for (std::size_t i = 0; i < kSinks; ++i) {
    if (i != kVictim)
      BOOST_TEST(after_kill[i] > 0u, "sink-" << i << " took no share after the kill");
  }
  for (std::size_t i = 0; i < exits.size(); ++i)
    BOOST_TEST(exits[i].clean(), survivors[i]->name() << " " << exits[i].describe());
}
