// Chaos scenario 1: the sink is SIGKILLed 10 times while 50 000 reliable messages flow over 4
// partitions. Nothing is lost: the sink makes each batch durable before process_batch returns,
// so everything it acked is on disk and everything it did not ack comes back from the broker.
// Duplicates (written, not yet acked when the kill came) are reported and bounded per kill by
// the in-flight window: the broker lets each partition's subscription have `max_unacked`
// messages out, and the runtime's credit is the same total.
#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 50'000;
constexpr std::size_t kPartitions = 4;
constexpr int kKills = 10;
constexpr std::uint64_t kMaxUnackedPerPartition = 250;
constexpr std::uint64_t kInflightWindow = kPartitions * kMaxUnackedPerPartition;
const std::string kTopic = "/default/chaos-sink";

}  // namespace

BOOST_AUTO_TEST_CASE(sink_sigkilled_ten_times_loses_nothing) {
  const auto started = Clock::now();
  ScratchDirectory dir("sink-sigkill");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=" + std::to_string(kPartitions), "--max-unacked",
       std::to_string(kMaxUnackedPerPartition), "--log-level", "warn"});
  broker.start();

  const auto output = dir.path() / "records.txt";
  ConnectorToml sink_toml;
  sink_toml.service_url = broker.service_url();
  sink_toml.connector_name = "chaos-sink";
  sink_toml.batch_size = 250;
  sink_toml.max_inflight_records = kInflightWindow;
  sink_toml.extra =
      chaos_sink_table(kTopic, "chaos-sub", "chaos-sink-consumer", "Exclusive", output);
  auto sink = make_connector(dir, "sink", kChaosSinkBinary, sink_toml);

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = kPartitions;
  source_settings.keys = 64;
  source_settings.batch = 100;
  source_settings.interval_ms = 10;
  source_settings.state_dir = dir.path() / "source-state";
  ConnectorToml source_toml;
  source_toml.service_url = broker.service_url();
  source_toml.connector_name = "chaos-source";
  source_toml.extra = source_tables(source_settings);
  auto source = make_connector(dir, "source", kSimpleSourceBinary, source_toml);

  // The subscription exists before the first publish (new subscriptions start at the end).
  sink->start();
  source->start();

  Ledger ledger(kMessages);
  ledger.follow(output);
  std::vector<std::int64_t> recovery_ms;
  int kills = 0;
  for (int kill = 1; kill <= kKills; ++kill) {
    // Kill timing follows observed progress: the k-th kill once k/11 of the run is written.
    const std::uint64_t threshold = kill * kMessages / (kKills + 1);
    if (!wait_for_ledger(
            ledger, [&](const Ledger& l) { return l.records() >= threshold; }, kStepTimeout,
            {sink.get(), source.get()}, "sink progress before kill " + std::to_string(kill))) {
      return;
    }
    const auto killed_at = Clock::now();
    const auto killed = sink->kill();
    BOOST_TEST_REQUIRE(killed.signal == SIGKILL, "sink was " << killed.describe());
    ++kills;
    ledger.begin_segment();
    const auto records_at_kill = ledger.records();
    sink->start();
    if (!wait_for_ledger(
            ledger, [&](const Ledger& l) { return l.records() > records_at_kill || l.complete(); },
            kStepTimeout, {sink.get(), source.get()},
            "the restarted sink's first record after kill " + std::to_string(kill))) {
      return;
    }
    recovery_ms.push_back(millis_since(killed_at));
  }
  const bool complete = wait_for_ledger(
      ledger, [](const Ledger& l) { return l.complete(); }, 120s, {sink.get(), source.get()},
      "every message at the sink");

  const auto exits = signal_all({sink.get(), source.get()}, SIGTERM, 30s);
  ledger.poll();
  std::uint64_t max_duplicates_per_kill = 0;
  for (const auto duplicates : ledger.duplicates_per_segment())
    max_duplicates_per_kill = std::max(max_duplicates_per_kill, duplicates);
  print_figures("sink_sigkill",
                {{"sent", std::to_string(kMessages)},
                 {"partitions", std::to_string(kPartitions)},
                 {"received", std::to_string(ledger.records())},
                 {"lost", std::to_string(ledger.lost())},
                 {"duplicates", std::to_string(ledger.duplicates())},
                 {"duplicates_per_kill", join(ledger.duplicates_per_segment())},
                 {"max_duplicates_per_kill", std::to_string(max_duplicates_per_kill)},
                 {"max_inflight", std::to_string(kInflightWindow)},
                 {"torn_lines", std::to_string(ledger.torn())},
                 {"kills", std::to_string(kills)},
                 {"recovery_ms(min/avg/max)", summarize_ms(recovery_ms)},
                 {"sink_exit", exits[0].describe()},
                 {"source_exit", exits[1].describe()},
                 {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(kills == kKills);
  BOOST_TEST(complete);
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(ledger.duplicates_per_segment().front() == 0u);  // nothing twice before a kill
  BOOST_TEST(max_duplicates_per_kill <= kInflightWindow);
  BOOST_TEST(ledger.duplicates() <= kKills * kInflightWindow);
  BOOST_TEST(exits[0].clean(), "sink " << exits[0].describe());
  BOOST_TEST(exits[1].clean(), "source " << exits[1].describe());
}
