// Chaos on a broker that loses messages: the embedded broker in its danube_0_15 mode (a window
// of 10 unacked messages and a 256-entry live tail, as Danube 0.15.1 standalone) while the sink
// is SIGKILLed 3 times and stays down for a moment each time. The broker skips what the
// subscription could not hold meanwhile, for good. The sink must say so exactly: the numbers
// missing from its output equal the sum of the gaps it recorded in its gap file.
#include <thread>

#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 20'000;
constexpr std::size_t kPartitions = 2;
constexpr int kKills = 3;
// Long enough that the source publishes more than 10 + 256 per partition meanwhile (it sends
// about 2000 a second): a scenario parameter, not a wait for anything.
constexpr auto kOutage = std::chrono::milliseconds(600);
const std::string kTopic = "/default/lossy";

}  // namespace

BOOST_AUTO_TEST_CASE(sink_reports_exactly_what_a_lossy_broker_skipped_across_sigkills) {
  const auto started = Clock::now();
  ScratchDirectory dir("lossy-sink-sigkill");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=" + std::to_string(kPartitions), "--max-unacked", "10",
       "--dispatch", "danube-0.15", "--log-level", "error"});
  broker.start();

  const auto output = dir.path() / "records.txt";
  ConnectorToml sink_toml;
  sink_toml.service_url = broker.service_url();
  sink_toml.connector_name = "lossy-sink";
  sink_toml.batch_size = 50;
  sink_toml.extra = chaos_sink_table(kTopic, "lossy-sub", "lossy-consumer", "Exclusive", output);
  auto sink = make_connector(dir, "sink", kChaosSinkBinary, sink_toml);
  const auto gap_file = dir.path() / "records-sink-state" / "lossy-sink.gaps.jsonl";

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = kPartitions;
  source_settings.keys = 16;
  source_settings.batch = 20;
  source_settings.interval_ms = 10;
  source_settings.state_dir = dir.path() / "source-state";
  ConnectorToml source_toml;
  source_toml.service_url = broker.service_url();
  source_toml.connector_name = "lossy-source";
  source_toml.extra = source_tables(source_settings);
  auto source = make_connector(dir, "source", kSimpleSourceBinary, source_toml);

  sink->start();
  source->start();
  Ledger ledger(kMessages);
  ledger.follow(output);
  int kills = 0;
  for (int kill = 1; kill <= kKills; ++kill) {
    const std::uint64_t threshold = kill * kMessages / (kKills + 2);
    if (!wait_for_ledger(
            ledger, [&](const Ledger& l) { return l.distinct() >= threshold; }, kStepTimeout,
            {sink.get(), source.get()}, "sink progress before kill " + std::to_string(kill))) {
      return;
    }
    const auto killed = sink->kill();
    BOOST_TEST_REQUIRE(killed.signal == SIGKILL, "sink was " << killed.describe());
    ++kills;
    std::this_thread::sleep_for(kOutage);
    sink->start();
  }
  // Done once every message is either at the sink or reported lost by it.
  std::size_t gaps = 0;
  const bool accounted = wait_for_ledger(
      ledger,
      [&](const Ledger& l) { return l.distinct() + reported_lost(gap_file, gaps) >= kMessages; },
      120s, {sink.get(), source.get()}, "every message delivered or reported lost");
  const auto exits = signal_all({sink.get(), source.get()}, SIGTERM, 30s);
  ledger.poll();
  const auto reported = reported_lost(gap_file, gaps);
  print_figures("lossy_broker_sink_sigkill",
                {{"sent", std::to_string(kMessages)},
                 {"partitions", std::to_string(kPartitions)},
                 {"kills", std::to_string(kills)},
                 {"received", std::to_string(ledger.records())},
                 {"lost", std::to_string(ledger.lost())},
                 {"reported_lost", std::to_string(reported)},
                 {"gaps", std::to_string(gaps)},
                 {"duplicates", std::to_string(ledger.duplicates())},
                 {"sink_exit", exits[0].describe()},
                 {"source_exit", exits[1].describe()},
                 {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(kills == kKills);
  BOOST_TEST(accounted);
  BOOST_TEST(ledger.lost() > 0u);  // the scenario really made the broker skip messages
  BOOST_TEST(reported == ledger.lost(), "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(exits[0].clean(), "sink " << exits[0].describe());
  BOOST_TEST(exits[1].clean(), "source " << exits[1].describe());
}
