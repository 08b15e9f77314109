// Chaos scenario 4: SIGTERM to a busy source and a busy sink at once. Both drain — the sink
// acks everything it wrote, the source commits everything the broker accepted — and exit 0
// within [shutdown] timeout_ms. Started again, they deliver the rest: nothing lost, nothing
// twice.
#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 20'000;
constexpr std::uint64_t kShutdownTimeoutMs = 5'000;
const std::string kTopic = "/default/chaos-drain";

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_drains_source_and_sink_without_loss_or_duplicates) {
  const auto started = Clock::now();
  ScratchDirectory dir("sigterm-drain");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--topic", kTopic + ":partitions=2", "--max-unacked", "500", "--log-level", "warn"});
  broker.start();

  const auto output = dir.path() / "records.txt";
  ConnectorToml sink_toml;
  sink_toml.service_url = broker.service_url();
  sink_toml.connector_name = "chaos-sink";
  sink_toml.shutdown_timeout_ms = kShutdownTimeoutMs;
  sink_toml.extra = simple_sink_table(kTopic, "chaos-sub", output);
  auto sink = make_connector(dir, "sink", kSimpleSinkBinary, sink_toml);

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = 2;
  source_settings.keys = 16;
  source_settings.batch = 40;
  source_settings.interval_ms = 10;
  source_settings.state_dir = dir.path() / "source-state";
  // Only the drain commits: a SIGTERM that did not commit everything would show as duplicates.
  source_settings.commit_interval_ms = 60'000;
  ConnectorToml source_toml;
  source_toml.service_url = broker.service_url();
  source_toml.connector_name = "chaos-source";
  source_toml.shutdown_timeout_ms = kShutdownTimeoutMs;
  source_toml.extra = source_tables(source_settings);
  auto source = make_connector(dir, "source", kSimpleSourceBinary, source_toml);

  sink->start();
  source->start();
  Ledger ledger(kMessages);
  ledger.follow(output);
  const std::vector<ConnectorProcess*> connectors = {sink.get(), source.get()};
  BOOST_REQUIRE(wait_for_ledger(
      ledger, [](const Ledger& l) { return l.records() >= kMessages / 3; }, kStepTimeout,
      connectors, "a third of the messages"));

  const auto first =
      signal_all(connectors, SIGTERM, std::chrono::milliseconds(kShutdownTimeoutMs) + 30s);
  ledger.poll();
  const auto written_by_first_run = ledger.records();
  auto first_timeout_lines = grep_logs(sink->log_files(), "event=drain_timeout");
  for (auto& line : grep_logs(source->log_files(), "event=drain_timeout"))
    first_timeout_lines.push_back(std::move(line));
  const auto first_drain_timeouts = first_timeout_lines.size();

  // The second run: the sink's subscription and the source's offsets carry over.
  sink->start();
  source->start();
  const auto ready = source->log().wait_for("event=simple_source_ready", 5s);
  const auto resumed_from = ready ? log_field(*ready, "resume_from").value_or("?") : "?";
  const bool complete = wait_for_ledger(
      ledger, [](const Ledger& l) { return l.complete(); }, 120s, connectors,
      "every message at the sink");
  const auto second =
      signal_all(connectors, SIGTERM, std::chrono::milliseconds(kShutdownTimeoutMs) + 30s);
  ledger.poll();
  const auto drain_timeouts = grep_logs(sink->log_files(), "event=drain_timeout").size() +
                              grep_logs(source->log_files(), "event=drain_timeout").size();

  print_figures("sigterm_drain", {{"sent", std::to_string(kMessages)},
                                  {"received", std::to_string(ledger.records())},
                                  {"lost", std::to_string(ledger.lost())},
                                  {"duplicates", std::to_string(ledger.duplicates())},
                                  {"written_before_sigterm", std::to_string(written_by_first_run)},
                                  {"source_resumed_from", resumed_from},
                                  {"timeout_ms", std::to_string(kShutdownTimeoutMs)},
                                  {"sink_exit", first[0].describe()},
                                  {"source_exit", first[1].describe()},
                                  {"sink_exit_2", second[0].describe()},
                                  {"source_exit_2", second[1].describe()},
                                  {"drain_timeouts", std::to_string(drain_timeouts)},
                                  {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(written_by_first_run < kMessages);  // the signal really came mid-run
  BOOST_TEST(first_drain_timeouts == 0u, join(first_timeout_lines));
  for (const auto* run : {&first, &second}) {
    for (std::size_t i = 0; i < run->size(); ++i) {
      const auto& exit = (*run)[i];
      BOOST_TEST(exit.clean(), connectors[i]->name() << " " << exit.describe());
      BOOST_TEST(exit.waited_ms <= static_cast<std::int64_t>(kShutdownTimeoutMs),
                 connectors[i]->name()
                     << " " << exit.describe() << ", budget " << kShutdownTimeoutMs << " ms");
    }
  }
  BOOST_TEST(complete);
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.duplicates() == 0u);
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(ledger.torn() == 0u);
}
