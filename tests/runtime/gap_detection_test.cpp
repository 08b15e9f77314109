// Gap detection against the embedded broker in its danube_0_15 mode, which skips offsets for
// lagging subscriptions as Danube 0.15.1 does: a sink reports exactly what it never received
// (log, gap file, metric, status, health), never reports a restart of the broker's offsets as a
// gap, and acks redeliveries of what it processed before without processing them again.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <future>
#include <nlohmann/json.hpp>
#include <utility>

#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"
#include "sink/sink_offset_file.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kWindow = 10;  // max_unacked_messages, as a standalone Danube broker

testkit::BrokerOptions faithful_options() {
  testkit::BrokerOptions options;
  options.dispatch_fidelity = testkit::DispatchFidelity::danube_0_15;
  options.max_unacked_messages = kWindow;
  return options;
}

std::vector<nlohmann::json> gap_lines(const std::filesystem::path& file) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    lines.push_back(nlohmann::json::parse(line));
  return lines;
}

struct Fixture {
  explicit Fixture(testkit::BrokerOptions options = faithful_options()) : broker(options) {
    broker.start();
    client::ClientOptions client_options;
    client_options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(client_options).value());
  }
  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};  // drains what a failed check left running
};

// A sink held at its first batch while `count` messages are published, then released.
struct LaggingRun {
  std::shared_ptr<RecordingSink::Shared> shared = std::make_shared<RecordingSink::Shared>();
  std::shared_ptr<GatedSink::Gate> gate = std::make_shared<GatedSink::Gate>();
  connect::ConnectorConfig config;
  connector_actor runtime;
};

LaggingRun start_lagging_sink(Fixture& fixture, const std::string& topic, int count,
                              connect::OnGap on_gap) {
  LaggingRun run;
  run.config = fast_config(fixture.broker.service_url(), "lagging-sink");
  run.config.delivery.on_gap = on_gap;
  run.gate->close();
  run.runtime = fixture.runtimes.add(
      spawn_sink(fixture.system,
                 std::make_unique<GatedSink>(std::vector{subscription(topic, "lagging")},
                                             run.shared, run.gate),
                 run.config));
  BOOST_REQUIRE(subscribed(fixture.broker, topic, "lagging"));
  produce(*fixture.client, topic, count, "m-");
  BOOST_REQUIRE(run.gate->wait_blocked(30s));
  run.gate->open();
  return run;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_lagging_sink_reports_exactly_the_range_the_broker_skipped) {
  Fixture fixture;
  const std::string topic = "/default/lagging";
  fixture.broker.create_topic(topic, true);
  auto run = start_lagging_sink(fixture, topic, 2000, connect::OnGap::report);

  // Everything the broker still delivers arrives: the window and the newest 256.
  BOOST_REQUIRE(wait_for(*run.shared, [](const auto& s) { return s.processed.size() >= 266; }));
  BOOST_REQUIRE(eventually([&] { return status_of(fixture.system, run.runtime).lost > 0; }));
  const auto status = status_of(fixture.system, run.runtime);
  const auto snapshot = fixture.broker.subscription(topic, "lagging");
  BOOST_REQUIRE(snapshot);
  const auto seen = processed_payloads(*run.shared);

  // The broker skipped 10..1743; the sink reports that range, and it is what its output lacks.
  BOOST_TEST(snapshot->skipped_by_lag == 1734u);
  BOOST_TEST(status.lost == snapshot->skipped_by_lag);
  BOOST_TEST(missing(seen, "m-", 2000) == status.lost);
  const auto lines = gap_lines(run.config.gap_file());
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0]["partition"].get<std::string>() == topic);
  BOOST_TEST(lines[0]["first_offset"].get<std::uint64_t>() == snapshot->skipped[0].first);
  BOOST_TEST(lines[0]["last_offset"].get<std::uint64_t>() == snapshot->skipped[0].end - 1);
  BOOST_TEST(lines[0]["count"].get<std::uint64_t>() == 1734u);

  const auto drained = drain_and_wait(fixture.system, run.runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.lost == 1734u);
  BOOST_TEST(!drained->reason);  // on_gap = "report": the sink kept going and stopped cleanly
}

BOOST_AUTO_TEST_CASE(on_gap_fail_stops_the_sink_as_failed) {
  Fixture fixture;
  const std::string topic = "/default/strict-gaps";
  fixture.broker.create_topic(topic, true);
  auto run = start_lagging_sink(fixture, topic, 2000, connect::OnGap::fail);
  const auto reason = wait_for_exit(fixture.system, run.runtime, 30s);
  BOOST_REQUIRE(reason.has_value());
  BOOST_TEST(static_cast<bool>(*reason));  // failed, not a clean stop
  BOOST_TEST(gap_lines(run.config.gap_file()).size() == 1u);
}

BOOST_AUTO_TEST_CASE(the_same_workload_on_the_lossless_broker_loses_and_reports_nothing) {
  Fixture fixture(testkit::BrokerOptions{});
  const std::string topic = "/default/lossless";
  fixture.broker.create_topic(topic, true);
  auto run = start_lagging_sink(fixture, topic, 2000, connect::OnGap::report);
  BOOST_REQUIRE(wait_for(*run.shared, [](const auto& s) { return s.processed.size() >= 2000; }));
  const auto drained = drain_and_wait(fixture.system, run.runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.lost == 0u);
  BOOST_TEST(missing(processed_payloads(*run.shared), "m-", 2000) == 0u);
  BOOST_TEST(!std::filesystem::exists(run.config.gap_file()));
}

BOOST_AUTO_TEST_CASE(a_sink_down_while_messages_are_published_reports_the_loss_on_return) {
  Fixture fixture;
  const std::string topic = "/default/outage";
  fixture.broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(fixture.broker.service_url(), "outage-sink");
  const auto subscriptions = std::vector{subscription(topic, "outage")};
  {
    auto runtime = fixture.runtimes.add(
        spawn_sink(fixture.system, std::make_unique<RecordingSink>(subscriptions, shared), config));
    BOOST_REQUIRE(subscribed(fixture.broker, topic, "outage"));
    produce(*fixture.client, topic, 100, "before-");
    BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() == 100; }));
    BOOST_REQUIRE(fixture.broker.wait_until(
        [&] { return fixture.broker.subscription(topic, "outage")->cursor == 100; }, 30s));
    const auto drained = drain_and_wait(fixture.system, runtime);
    BOOST_REQUIRE(drained);
    BOOST_TEST(drained->status.lost == 0u);
  }
  // Nobody consumes while 1000 are published; the subscription's history is in state_dir. The
  // drained sink's client consumer closes after the runtime ended: until then the broker could
  // still hand it a message of the outage (which would then be owed, not lost).
  BOOST_REQUIRE(fixture.broker.wait_until(
      [&] { return fixture.broker.subscription(topic, "outage")->connected_consumers == 0; }, 30s));
  produce(*fixture.client, topic, 1000, "during-");
  auto runtime = fixture.runtimes.add(
      spawn_sink(fixture.system, std::make_unique<RecordingSink>(subscriptions, shared), config));
  BOOST_REQUIRE(eventually([&] { return status_of(fixture.system, runtime).lost > 0; }));
  const auto snapshot = fixture.broker.subscription(topic, "outage");
  BOOST_REQUIRE(snapshot);
  BOOST_REQUIRE(wait_for(*shared, [&](const auto& s) {
    return s.processed.size() == 100 + 1000 - snapshot->skipped_by_lag;
  }));
  const auto status = status_of(fixture.system, runtime);
  BOOST_TEST(snapshot->skipped_by_lag == 1000u - 256u);
  BOOST_TEST(status.lost == snapshot->skipped_by_lag);
  BOOST_TEST(missing(processed_payloads(*shared), "during-", 1000) == status.lost);
  BOOST_TEST(missing(processed_payloads(*shared), "before-", 100) == 0u);
  const auto lines = gap_lines(config.gap_file());
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0]["first_offset"].get<std::uint64_t>() == 100u);
  BOOST_TEST(lines[0]["first_offset"].get<std::uint64_t>() == snapshot->skipped.at(0).first);
  BOOST_TEST(lines[0]["count"].get<std::uint64_t>() == status.lost);
}

BOOST_AUTO_TEST_CASE(restarted_offsets_are_no_gap_and_replays_are_not_processed_twice) {
  TempDirectory data;
  auto options = faithful_options();
  options.data_dir = data.path;
  options.cluster_like = true;
  // Persisted once, at the first advance: the restart replays what was acked after it.
  options.cursor_persist_interval = std::chrono::hours(1);
  Fixture fixture(options);
  const std::string topic = "/default/restarting";
  fixture.broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(fixture.broker.service_url(), "restart-sink");
  auto runtime = fixture.runtimes.add(spawn_sink(
      fixture.system,
      std::make_unique<RecordingSink>(std::vector{subscription(topic, "restart")}, shared),
      config));
  BOOST_REQUIRE(subscribed(fixture.broker, topic, "restart"));
  // The first 10 are processed and their cursor persisted; the next 90 only in memory.
  produce(*fixture.client, topic, 10, "old-");
  std::optional<std::uint64_t> persisted;
  BOOST_REQUIRE(fixture.broker.wait_until(
      [&] {
        persisted = fixture.broker.subscription(topic, "restart")->persisted_cursor;
        return persisted.has_value();
      },
      30s));
  // The first advance, which may come after a part of the 10 (the sink acks batch by batch).
  BOOST_REQUIRE_GT(*persisted, 0u);
  BOOST_REQUIRE_LE(*persisted, 10u);
  produce(*fixture.client, topic, 90, "older-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() == 100; }));
  BOOST_REQUIRE(fixture.broker.wait_until(
      [&] { return fixture.broker.subscription(topic, "restart")->cursor == 100; }, 30s));

  fixture.broker.restart();
  // The broker replays old offsets from its persisted cursor, then numbers new ones from 0.
  produce(*fixture.client, topic, 50, "new-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 150; }));
  BOOST_REQUIRE(eventually(
      [&] { return status_of(fixture.system, runtime).redeliveries_skipped == 100 - *persisted; }));
  const auto status = status_of(fixture.system, runtime);
  BOOST_TEST(status.lost == 0u);
  BOOST_TEST(missing(processed_payloads(*shared), "new-", 50) == 0u);
  // Counters start again with the broker: the 90 replayed and the 50 new were all sent. The
  // broker counts a delivery when its write completes, which may come after the sink got it.
  BOOST_TEST(fixture.broker.wait_until(
      [&] { return fixture.broker.counters(topic)->delivered >= 90u + 50u; }, 30s));
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->processed.size() == 150u);  // nothing old processed twice
  for (const auto& [payload, attempts] : shared->attempts)
    BOOST_TEST(attempts == 1, payload << " processed " << attempts << " times");
  BOOST_TEST(!std::filesystem::exists(config.gap_file()));
}

BOOST_AUTO_TEST_CASE(a_non_reliable_topic_is_not_tracked_and_reports_nothing) {
  Fixture fixture(testkit::BrokerOptions{});
  const std::string topic = "/default/best-effort";
  fixture.broker.create_topic(topic, false);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(fixture.broker.service_url(), "best-effort-sink");
  auto runtime = fixture.runtimes.add(spawn_sink(
      fixture.system,
      std::make_unique<RecordingSink>(std::vector{subscription(topic, "best-effort")}, shared),
      config));
  BOOST_REQUIRE(subscribed(fixture.broker, topic, "best-effort"));
  // Every message carries offset 0; the broker may drop some (a queue of 4 per consumer).
  for (int round = 0; round < 20; ++round) {
    produce(*fixture.client, topic, 5, "r" + std::to_string(round) + "-", 0, 0, false);
    wait_for(
        *shared, [&](const auto& s) { return s.processed.size() >= std::size_t(round) + 1; }, 5s);
  }
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 3; }));
  const auto drained = drain_and_wait(fixture.system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(!drained->reason);
  BOOST_TEST(drained->status.lost == 0u);
  BOOST_TEST(drained->status.redeliveries_skipped == 0u);
  BOOST_TEST(!std::filesystem::exists(config.gap_file()));
}

// A sink saves a gap as settled, with its report unconfirmed, before it writes the report, and
// confirms it after. Killed in between, its next run reports the gap unless the gap file shows
// the report was written: once, never twice, never not at all.
BOOST_AUTO_TEST_CASE(a_report_cut_short_by_a_kill_is_made_exactly_once_on_restart) {
  Fixture fixture(testkit::BrokerOptions{});
  const std::string topic = "/default/cut-short";
  fixture.broker.create_topic(topic, true);
  auto config = fast_config(fixture.broker.service_url(), "cut-short-sink");
  const auto subscriptions = std::vector{subscription(topic, "cut-short")};
  SinkOffsetFile offsets(config.offsets.state_dir, config.connector_name, topic, "cut-short");
  PartitionContinuity::State killed_run;
  killed_run.next_expected = 40;
  killed_run.settled_below = 40;
  killed_run.unconfirmed_reports = {OffsetGap{10, 29}};
  const auto unconfirmed_cleared = [&] {
    std::string problem;
    const auto stored = offsets.load(problem);
    return stored && stored->unconfirmed_reports.empty();
  };
  auto shared = std::make_shared<RecordingSink::Shared>();

  // Starts the sink on the state of `killed_run`; returns what it reported lost once drained.
  const auto restart_after_kill = [&]() -> std::optional<std::uint64_t> {
    offsets.save(killed_run);
    auto runtime = fixture.runtimes.add(
        spawn_sink(fixture.system, std::make_unique<RecordingSink>(subscriptions, shared), config));
    if (!subscribed(fixture.broker, topic, "cut-short") || !eventually(unconfirmed_cleared)) {
      return std::nullopt;
    }
    const auto drained = drain_and_wait(fixture.system, runtime);
    if (!drained) return std::nullopt;
    return drained->status.lost;
  };

  // Killed before the report was written: the restart reports it.
  BOOST_TEST((restart_after_kill() == std::uint64_t{20}));
  auto lines = gap_lines(config.gap_file());
  BOOST_REQUIRE_EQUAL(lines.size(), 1u);
  BOOST_TEST(lines[0]["first_offset"].get<std::uint64_t>() == 10u);
  BOOST_TEST(lines[0]["last_offset"].get<std::uint64_t>() == 29u);

  // Killed after the report was written, before it was confirmed: not reported again.
  BOOST_REQUIRE(fixture.broker.wait_until(
      [&] { return fixture.broker.subscription(topic, "cut-short")->connected_consumers == 0; },
      30s));
  BOOST_TEST((restart_after_kill() == std::uint64_t{0}));
  lines = gap_lines(config.gap_file());
  BOOST_TEST(lines.size() == 1u);

  // The same, with the gap file rotated since the report was written (by the reports of other
  // partitions, [delivery] gap_file_max_bytes): found in the rotated copy, not made again.
  BOOST_REQUIRE(fixture.broker.wait_until(
      [&] { return fixture.broker.subscription(topic, "cut-short")->connected_consumers == 0; },
      30s));
  auto rotated = config.gap_file();
  rotated += ".1";
  std::filesystem::rename(config.gap_file(), rotated);
  BOOST_TEST((restart_after_kill() == std::uint64_t{0}));
  BOOST_TEST(!std::filesystem::exists(config.gap_file()));
  BOOST_TEST(gap_lines(rotated).size() == 1u);
}

BOOST_AUTO_TEST_CASE(offsets_delivered_out_of_order_are_processed_and_never_reported_lost) {
  // Danube 0.15.1 with pipelined publishes delivers a partition's offsets out of order; the
  // sink once reported each inversion as a gap (23 false reports in 20 000 on the real broker).
  auto options = faithful_options();
  options.reorder_every = 7;
  Fixture fixture(options);
  const std::string topic = "/default/reordered";
  fixture.broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto config = fast_config(fixture.broker.service_url(), "reordered-sink");
  // The broker swaps two entries only when both are in its log at dispatch time. So the first
  // record waits until the first step is published: the window stays full meanwhile, the log
  // runs ahead, and what follows is dispatched with the swaps, however busy the machine is.
  std::promise<void> first_step_published;
  const std::shared_future<void> first_step = first_step_published.get_future().share();
  struct Opener {
    std::promise<void>& promise;
    bool opened = false;
    void open() {
      if (!std::exchange(opened, true)) promise.set_value();
    }
    ~Opener() { open(); }  // never leave the sink blocked when a check fails early
  } opener{first_step_published};
  Verdict hold_until_published = [first_step](const connect::SinkRecord&,
                                              int) -> std::optional<connect::ConnectorError> {
    first_step.wait();
    return std::nullopt;
  };
  auto runtime = fixture.runtimes.add(
      spawn_sink(fixture.system,
                 std::make_unique<RecordingSink>(std::vector{subscription(topic, "reordered")},
                                                 shared, hold_until_published),
                 config));
  BOOST_REQUIRE(subscribed(fixture.broker, topic, "reordered"));
  // In steps the window and live tail can always hold: nothing is skipped.
  for (int step = 0; step < 5; ++step) {
    produce(*fixture.client, topic, 100, "r" + std::to_string(step) + "-");
    opener.open();
    BOOST_REQUIRE(fixture.broker.wait_until(
        [&] {
          return fixture.broker.subscription(topic, "reordered")->cursor ==
                 100u * static_cast<std::uint64_t>(step + 1);
        },
        30s));
  }
  std::size_t inversions = 0;
  {
    std::lock_guard lock(shared->mutex);
    for (std::size_t i = 1; i < shared->processed.size(); ++i) {
      if (shared->processed[i].offset() < shared->processed[i - 1].offset()) ++inversions;
    }
  }
  const auto drained = drain_and_wait(fixture.system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(inversions > 0u);  // the broker did reorder
  BOOST_TEST(fixture.broker.subscription(topic, "reordered")->skipped_by_lag == 0u);
  BOOST_TEST(drained->status.lost == 0u);
  BOOST_TEST(drained->status.processed == 500u);
  BOOST_TEST(!std::filesystem::exists(config.gap_file()));
}
