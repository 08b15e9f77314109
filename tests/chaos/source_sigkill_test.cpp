// Chaos scenario 2: the source is SIGKILLed 5 times while it publishes. Its offset store
// ([offsets] state_dir) hands every restart the last committed offset, so nothing is lost;
// what it published after its last commit is published again (duplicates, reported).
#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 20'000;
constexpr int kKills = 5;
const std::string kTopic = "/default/chaos-source";

}  // namespace

BOOST_AUTO_TEST_CASE(source_sigkilled_five_times_resumes_from_its_offset_store) {
  const auto started = Clock::now();
  ScratchDirectory dir("source-sigkill");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=2", "--max-unacked", "500", "--log-level", "warn"});
  broker.start();

  const auto output = dir.path() / "records.txt";
  ConnectorToml sink_toml;
  sink_toml.service_url = broker.service_url();
  sink_toml.connector_name = "chaos-checker";
  sink_toml.extra = simple_sink_table(kTopic, "checker", output);
  auto sink = make_connector(dir, "sink", kSimpleSinkBinary, sink_toml);

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = 2;
  source_settings.keys = 16;
  source_settings.batch = 40;
  source_settings.interval_ms = 10;  // at most 4000 messages/s: the kills land mid-run
  source_settings.state_dir = dir.path() / "source-state";
  ConnectorToml source_toml;
  source_toml.service_url = broker.service_url();
  source_toml.connector_name = "chaos-source";
  source_toml.extra = source_tables(source_settings);
  auto source = make_connector(dir, "source", kSimpleSourceBinary, source_toml);

  sink->start();
  source->start();

  Ledger ledger(kMessages);
  ledger.follow(output);
  std::vector<std::uint64_t> resumed_from;
  std::vector<std::uint64_t> highest_at_kill;
  std::vector<std::int64_t> restart_ms;
  int kills = 0;
  for (int kill = 1; kill <= kKills; ++kill) {
    const std::uint64_t threshold = kill * kMessages / (kKills + 2);
    if (!wait_for_ledger(
            ledger, [&](const Ledger& l) { return l.highest() >= threshold; }, kStepTimeout,
            {sink.get(), source.get()}, "published progress before kill " + std::to_string(kill))) {
      return;
    }
    const auto killed = source->kill();
    BOOST_TEST_REQUIRE(killed.signal == SIGKILL, "source was " << killed.describe());
    ++kills;
    ledger.begin_segment();
    highest_at_kill.push_back(ledger.highest());
    const auto restarted_at = Clock::now();
    source->start();
    restart_ms.push_back(millis_since(restarted_at));
    const auto ready = source->log().wait_for("event=simple_source_ready", 5s);
    BOOST_TEST_REQUIRE(ready.has_value(), source->log().tail());
    resumed_from.push_back(std::stoull(log_field(*ready, "resume_from").value_or("0")));
  }
  const bool complete = wait_for_ledger(
      ledger, [](const Ledger& l) { return l.complete(); }, 120s, {sink.get(), source.get()},
      "every message at the sink");

  const auto exits = signal_all({sink.get(), source.get()}, SIGTERM, 30s);
  ledger.poll();
  print_figures("source_sigkill", {{"sent", std::to_string(kMessages)},
                                   {"received", std::to_string(ledger.records())},
                                   {"lost", std::to_string(ledger.lost())},
                                   {"duplicates", std::to_string(ledger.duplicates())},
                                   {"duplicates_per_kill", join(ledger.duplicates_per_segment())},
                                   {"kills", std::to_string(kills)},
                                   {"highest_seen_at_kill", join(highest_at_kill)},
                                   {"resumed_from", join(resumed_from)},
                                   {"restart_to_running_ms(min/avg/max)", summarize_ms(restart_ms)},
                                   {"sink_exit", exits[0].describe()},
                                   {"source_exit", exits[1].describe()},
                                   {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(kills == kKills);
  BOOST_TEST(complete);
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(ledger.torn() == 0u);
  // The offset store was in play: every restart resumed past the start, never backwards.
  for (std::size_t i = 0; i < resumed_from.size(); ++i) {
    BOOST_TEST(resumed_from[i] > 0u);
    if (i > 0) BOOST_TEST(resumed_from[i] >= resumed_from[i - 1]);
  }
  BOOST_TEST(exits[0].clean(), "sink " << exits[0].describe());
  BOOST_TEST(exits[1].clean(), "source " << exits[1].describe());
}
