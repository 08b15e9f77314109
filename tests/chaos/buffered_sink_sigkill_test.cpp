// Chaos with the sink buffer on a broker that loses messages: the embedded broker in its
// danube_0_15 mode (a window of 10 unacked messages and a 256-entry live tail) feeds a sink
// whose connector is slower than the source, and the sink is SIGKILLed 3 times. Without a
// buffer the broker would skip most of the growing backlog; with one the sink acks at disk
// speed, the backlog waits in its buffer, and what each killed run had buffered but not
// written is written by the next run. Nothing may be lost, and whatever is (a restart slower
// than the live tail allows) must be exactly what the sink reported.
#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 1'500;
constexpr std::size_t kPartitions = 2;
constexpr int kKills = 3;
// Scenario parameters, not waits: the source publishes about 200 messages a second (100 per
// partition, so a restart has 2.6 s before a partition's live tail runs past it), the
// connector takes 10 ms per record (100 a second): without the buffer the broker's backlog
// outgrows window + live tail within seconds.
constexpr std::size_t kSourceBatch = 4;
constexpr std::uint64_t kSourceIntervalMs = 20;
constexpr std::uint64_t kRecordDelayUs = 10'000;
const std::string kTopic = "/default/buffered";

// The messages the sink found in its buffer at start-up, over every run.
std::uint64_t recovered_messages(const ConnectorProcess& sink) {
  std::uint64_t total = 0;
  for (const auto& line : grep_logs(sink.log_files(), "event=sink_buffer_recovered")) {
    if (const auto value = log_field(line, "messages")) total += std::stoull(*value);
  }
  return total;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_buffered_sink_loses_nothing_across_sigkills_on_a_lossy_broker) {
  const auto started = Clock::now();
  ScratchDirectory dir("buffered-sink-sigkill");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=" + std::to_string(kPartitions), "--max-unacked", "10",
       "--dispatch", "danube-0.15", "--log-level", "error"});
  broker.start();

  const auto output = dir.path() / "records.txt";
  ConnectorToml sink_toml;
  sink_toml.service_url = broker.service_url();
  sink_toml.connector_name = "buffered-sink";
  sink_toml.batch_size = 50;
  sink_toml.max_inflight_records = 200;
  sink_toml.extra =
      chaos_sink_table(kTopic, "buffered-sub", "buffered-consumer", "Exclusive", output) +
      "record_delay_us = " + std::to_string(kRecordDelayUs) + "\n" +
      "[sink_buffer]\nenabled = true\nsegment_bytes = 65536\n";
  auto sink = make_connector(dir, "sink", kChaosSinkBinary, sink_toml);
  const auto gap_file = dir.path() / "records-sink-state" / "buffered-sink.gaps.jsonl";

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = kPartitions;
  source_settings.keys = 16;
  source_settings.batch = kSourceBatch;
  source_settings.interval_ms = kSourceIntervalMs;
  source_settings.state_dir = dir.path() / "source-state";
  ConnectorToml source_toml;
  source_toml.service_url = broker.service_url();
  source_toml.connector_name = "buffered-source";
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
    sink->start();
  }
  std::size_t gaps = 0;
  const bool accounted = wait_for_ledger(
      ledger,
      [&](const Ledger& l) { return l.distinct() + reported_lost(gap_file, gaps) >= kMessages; },
      120s, {sink.get(), source.get()}, "every message delivered or reported lost");
  const auto exits = signal_all({sink.get(), source.get()}, SIGTERM, 30s);
  ledger.poll();
  const auto reported = reported_lost(gap_file, gaps);
  const auto recovered = recovered_messages(*sink);
  print_figures("buffered_sink_sigkill", {{"sent", std::to_string(kMessages)},
                                          {"partitions", std::to_string(kPartitions)},
                                          {"kills", std::to_string(kills)},
                                          {"received", std::to_string(ledger.records())},
                                          {"lost", std::to_string(ledger.lost())},
                                          {"reported_lost", std::to_string(reported)},
                                          {"recovered_from_buffer", std::to_string(recovered)},
                                          {"duplicates", std::to_string(ledger.duplicates())},
                                          {"sink_exit", exits[0].describe()},
                                          {"source_exit", exits[1].describe()},
                                          {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(kills == kKills);
  BOOST_TEST(accounted);
  BOOST_TEST(reported == ledger.lost(), "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  // The kills found acked, unwritten messages in the buffer, and the next runs wrote them.
  BOOST_TEST(recovered > 0u);
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(exits[0].clean(), "sink " << exits[0].describe());
  BOOST_TEST(exits[1].clean(), "source " << exits[1].describe());
}
