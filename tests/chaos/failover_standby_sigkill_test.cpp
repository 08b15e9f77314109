// Chaos on a broker that loses messages (danube_0_15 mode: a window of 10 unacked messages and
// a 256-entry live tail) with a hot standby: two sink processes on one Failover subscription.
// The active one is SIGKILLed mid-run and stays dead. A Danube subscription loses what piles up
// while no consumer is connected; with the standby connected the broker switches to it at once
// and re-sends the killed consumer's unacked window, so the kill costs a few duplicates, not
// messages. (A sink killed without a standby loses what is published beyond 10 + 256 while it
// is down: chaos_lossy_broker_sink_sigkill_test.) A Failover standby does not track offsets
// (docs/delivery.md), so the loss is counted from the broker's log: whatever it skipped for
// lag — none, unless the machine is too busy for the standby to keep up — is exactly what the
// output misses.
#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 20'000;
constexpr std::size_t kPartitions = 2;
constexpr std::size_t kSinks = 2;
constexpr std::uint64_t kWindow = 10;  // Danube's dispatch.max_unacked_messages default
const std::string kTopic = "/default/standby";

// What the broker skipped for lag so far: the sum of N over "channel lagged by N" log lines.
std::uint64_t skipped_by_broker(LogWatcher& broker_log) {
  std::uint64_t skipped = 0;
  const std::string marker = "channel lagged by ";
  for (const auto& line : broker_log.lines_with(marker)) {
    skipped += std::stoull(line.substr(line.find(marker) + marker.size()));
  }
  return skipped;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigkill_of_the_active_sink_with_a_failover_standby_loses_nothing) {
  const auto started = Clock::now();
  ScratchDirectory dir("failover-standby");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=" + std::to_string(kPartitions), "--max-unacked",
       std::to_string(kWindow), "--dispatch", "danube-0.15", "--log-level", "warn"});
  broker.start();
  LogWatcher broker_log(dir.path() / "broker.1.log");

  Ledger ledger(kMessages);
  std::vector<std::unique_ptr<ConnectorProcess>> sinks;
  for (std::size_t i = 0; i < kSinks; ++i) {
    const auto output = dir.path() / ("records-" + std::to_string(i) + ".txt");
    ConnectorToml toml;
    toml.service_url = broker.service_url();
    toml.connector_name = "standby-sink-" + std::to_string(i);
    toml.batch_size = 50;
    toml.extra = chaos_sink_table(kTopic, "standby-sub", "standby-consumer-" + std::to_string(i),
                                  "Failover", output);
    sinks.push_back(make_connector(dir, "sink-" + std::to_string(i), kChaosSinkBinary, toml));
    ledger.follow(output);
  }
  for (auto& sink : sinks)
    sink->start();

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
  source_toml.connector_name = "standby-source";
  source_toml.extra = source_tables(source_settings);
  auto source = make_connector(dir, "source", kSimpleSourceBinary, source_toml);
  source->start();

  std::vector<ConnectorProcess*> everyone = {source.get()};
  for (auto& sink : sinks)
    everyone.push_back(sink.get());
  BOOST_REQUIRE(wait_for_ledger(
      ledger, [](const Ledger& l) { return l.distinct() >= kMessages / 3; }, kStepTimeout, everyone,
      "a third of the messages"));
  // The victim is the sink that is active on more partitions: the one that wrote more.
  const std::size_t victim = ledger.records_in(0) >= ledger.records_in(1) ? 0 : 1;
  const std::size_t standby = 1 - victim;
  const std::uint64_t skipped_before_kill = skipped_by_broker(broker_log);
  // The segment starts before the kill: the standby takes over within milliseconds, before a
  // read after the kill could draw the line.
  ledger.begin_segment();
  const std::uint64_t standby_at_kill = ledger.records_in(standby);
  const auto killed = sinks[victim]->kill();
  BOOST_TEST_REQUIRE(killed.signal == SIGKILL, "victim was " << killed.describe());
  const auto killed_at = Clock::now();

  const std::vector<ConnectorProcess*> survivors = {source.get(), sinks[standby].get()};
  // The first record the standby writes after the kill: how long the broker had no consumer
  // that kept up (it may already have been active on one partition).
  const bool took_over = wait_for_ledger(
      ledger, [&](const Ledger& l) { return l.records_in(standby) > standby_at_kill; },
      kStepTimeout, survivors, "the standby writing after the kill");
  const auto takeover_ms = millis_since(killed_at);
  const bool accounted = wait_for_ledger(
      ledger,
      [&](const Ledger& l) { return l.distinct() + skipped_by_broker(broker_log) >= kMessages; },
      120s, survivors, "every message at the standby or skipped by the broker");
  const auto exits = signal_all(survivors, SIGTERM, 30s);
  ledger.poll();
  const std::uint64_t skipped = skipped_by_broker(broker_log);

  print_figures("failover_standby_sigkill",
                {{"sent", std::to_string(kMessages)},
                 {"partitions", std::to_string(kPartitions)},
                 {"window", std::to_string(kWindow)},
                 {"received", std::to_string(ledger.records())},
                 {"lost", std::to_string(ledger.lost())},
                 {"skipped_by_broker", std::to_string(skipped)},
                 {"skipped_before_kill", std::to_string(skipped_before_kill)},
                 {"duplicates", std::to_string(ledger.duplicates())},
                 {"victim", "sink-" + std::to_string(victim)},
                 {"standby_before_kill", std::to_string(standby_at_kill)},
                 {"standby_total", std::to_string(ledger.records_in(standby))},
                 {"takeover_ms", std::to_string(takeover_ms)},
                 {"exits", "\"" + exits[0].describe() + "," + exits[1].describe() + "\""},
                 {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(took_over);
  BOOST_TEST(accounted);
  // Nothing is missing that the broker did not skip, and a standby that keeps up makes it skip
  // nothing (it does, when the machine is too busy for it: then the counts must still agree).
  BOOST_TEST(ledger.lost() == skipped, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(ledger.duplicates_per_segment().front() == 0u);  // nothing twice before the kill
  // The killed consumer's unacked messages, re-sent to the standby: at most a window each.
  BOOST_TEST(ledger.duplicates() <= kPartitions * kWindow);
  for (std::size_t i = 0; i < exits.size(); ++i)
    BOOST_TEST(exits[i].clean(), survivors[i]->name() << " " << exits[i].describe());
}
