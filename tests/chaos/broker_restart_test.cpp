// Chaos scenario 3: the broker is SIGKILLed and restarted on its data directory 5 times while
// a source and a sink run. Both connectors recover on their own — the processes are never
// restarted (in-process supervision may rebuild their pipelines) — and nothing is lost.
//
// Reconnect times, per broker restart, counted from the moment the new broker is listening:
//   source_reconnect_ms: until the source's published counter (/metrics) moves again;
//   end_to_end_ms: until the sink has written a record the source made after that moment.
#include "chaos_fixture.hpp"

using namespace danube::chaos;

namespace {

constexpr std::uint64_t kMessages = 20'000;
constexpr int kKills = 5;
const std::string kTopic = "/default/chaos-broker";
const std::string kPublished = "danube_connector_messages_processed_total";

}  // namespace

BOOST_AUTO_TEST_CASE(broker_sigkilled_five_times_connectors_recover_in_process) {
  const auto started = Clock::now();
  ScratchDirectory dir("broker-restart");
  BrokerProcess broker(kBrokerBinary, dir.path(),
                       {"--data-dir", (dir.path() / "broker-data").string(), "--topic",
                        kTopic + ":partitions=2", "--max-unacked", "500", "--log-level", "warn"});
  broker.start();

  const auto output = dir.path() / "records.txt";
  ConnectorToml sink_toml;
  sink_toml.service_url = broker.service_url();
  sink_toml.connector_name = "chaos-sink";
  sink_toml.extra = simple_sink_table(kTopic, "chaos-sub", output);
  auto sink = make_connector(dir, "sink", kSimpleSinkBinary, sink_toml);

  SourceSettings source_settings;
  source_settings.topic = kTopic;
  source_settings.count = kMessages;
  source_settings.partitions = 2;
  source_settings.keys = 16;
  source_settings.batch = 25;
  source_settings.interval_ms = 10;  // at most 2500 messages/s: records keep coming after a restart
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
  std::vector<std::int64_t> source_reconnect_ms;
  std::vector<std::int64_t> end_to_end_ms;
  std::vector<std::int64_t> broker_restart_ms;
  int kills = 0;
  const std::vector<ConnectorProcess*> connectors = {sink.get(), source.get()};
  for (int kill = 1; kill <= kKills; ++kill) {
    const std::uint64_t threshold = kill * kMessages / (kKills + 2);
    if (!wait_for_ledger(
            ledger, [&](const Ledger& l) { return l.highest() >= threshold; }, kStepTimeout,
            connectors, "progress before broker kill " + std::to_string(kill))) {
      return;
    }
    const auto killed_at = Clock::now();
    const auto killed = broker.kill();
    BOOST_TEST_REQUIRE(killed.signal == SIGKILL, "broker was " << killed.describe());
    ++kills;
    ledger.begin_segment();
    broker.start();
    broker_restart_ms.push_back(millis_since(killed_at));
    const auto ready_at = Clock::now();
    const auto ready_wall_ms = wall_clock_ms();
    const double published_at_ready = scrape_metric(source->http_port(), kPublished).value_or(0);

    bool source_back = false;
    bool end_to_end_back = false;
    auto scraped_at = Clock::time_point{};
    const bool recovered = wait_for_ledger(
        ledger,
        [&](const Ledger& l) {
          if (!source_back && Clock::now() - scraped_at >= 20ms) {
            scraped_at = Clock::now();
            const auto published = scrape_metric(source->http_port(), kPublished);
            if (published && *published > published_at_ready) {
              source_back = true;
              source_reconnect_ms.push_back(millis_since(ready_at));
            }
          }
          if (!end_to_end_back && l.latest_timestamp_ms() >= ready_wall_ms) {
            end_to_end_back = true;
            end_to_end_ms.push_back(millis_since(ready_at));
          }
          // The source may have made its last records before this restart: then completion
          // is the only sign of recovery left.
          return (source_back && end_to_end_back) || l.complete();
        },
        kStepTimeout, connectors, "recovery after broker restart " + std::to_string(kill));
    if (!recovered) return;
  }
  const bool complete = wait_for_ledger(
      ledger, [](const Ledger& l) { return l.complete(); }, 120s, connectors,
      "every message at the sink");

  const auto pipeline_restarts = grep_logs(sink->log_files(), "event=restart_scheduled").size() +
                                 grep_logs(source->log_files(), "event=restart_scheduled").size();
  const bool never_restarted = sink->starts() == 1 && source->starts() == 1;
  const auto exits = signal_all(connectors, SIGTERM, 30s);
  ledger.poll();
  print_figures("broker_restart",
                {{"sent", std::to_string(kMessages)},
                 {"received", std::to_string(ledger.records())},
                 {"lost", std::to_string(ledger.lost())},
                 {"duplicates", std::to_string(ledger.duplicates())},
                 {"duplicates_per_kill", join(ledger.duplicates_per_segment())},
                 {"kills", std::to_string(kills)},
                 {"broker_restart_ms(min/avg/max)", summarize_ms(broker_restart_ms)},
                 {"source_reconnect_ms(min/avg/max)", summarize_ms(source_reconnect_ms)},
                 {"end_to_end_reconnect_ms(min/avg/max)", summarize_ms(end_to_end_ms)},
                 {"pipeline_restarts", std::to_string(pipeline_restarts)},
                 {"process_restarts", never_restarted ? "0" : "yes"},
                 {"sink_exit", exits[0].describe()},
                 {"source_exit", exits[1].describe()},
                 {"duration_ms", std::to_string(millis_since(started))}});

  BOOST_TEST(kills == kKills);
  BOOST_TEST(complete);
  BOOST_TEST(never_restarted);
  BOOST_TEST(ledger.lost() == 0u, "missing numbers (first 20): " << join(ledger.missing()));
  BOOST_TEST(ledger.foreign() == 0u);
  BOOST_TEST(ledger.torn() == 0u);
  BOOST_TEST(exits[0].clean(), "sink " << exits[0].describe());
  BOOST_TEST(exits[1].clean(), "source " << exits[1].describe());
}
