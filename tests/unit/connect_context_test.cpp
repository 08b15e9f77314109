// The context a connector's initialize() receives, and what it hands out: the logger (its line
// format), metric handles (their checks, in memory and on prometheus), the source sender over
// any channel, and the test stand-ins of testing.hpp.
#include <prometheus/registry.h>

#include <boost/test/unit_test.hpp>
#include <optional>
#include <thread>

#include "danube/connect/connect.hpp"
#include "danube/connect/testing.hpp"
#include "danube/services/custom_metrics.hpp"
#include "danube/services/envelope_channel.hpp"
#include "danube/services/metrics.hpp"

namespace dc = danube::connect;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(log_lines)

BOOST_AUTO_TEST_CASE(events_and_fields_render_as_key_value_pairs) {
  const std::vector<dc::LogField> fields{
      {"rows", 12}, {"table", "orders"}, {"ok", true}, {"ratio", 0.5}};
  BOOST_TEST(dc::format_log_line("batch_written", fields) ==
             "event=batch_written rows=12 table=orders ok=true ratio=0.500000");
}

BOOST_AUTO_TEST_CASE(values_that_would_split_are_quoted_and_escaped) {
  const std::vector<dc::LogField> fields{{"path", "/tmp/a b"}, {"quote", "say \"hi\""},
                                         {"eq", "a=b"},        {"empty", ""},
                                         {"line", "one\ntwo"}, {"bell", "\x07"}};
  BOOST_TEST(dc::format_log_line("could not write", fields) ==
             R"(event="could not write" path="/tmp/a b" quote="say \"hi\"" eq="a=b" empty="" )"
             R"(line="one\ntwo" bell="\x07")");
}

BOOST_AUTO_TEST_CASE(levels_parse_case_insensitively_with_the_warning_alias) {
  BOOST_TEST((dc::parse_log_level("WARNING") == dc::LogLevel::warn));
  BOOST_TEST((dc::parse_log_level("Critical") == dc::LogLevel::critical));
  BOOST_TEST(!dc::parse_log_level("verbose").has_value());
  for (auto level :
       {dc::LogLevel::trace, dc::LogLevel::debug, dc::LogLevel::info, dc::LogLevel::warn,
        dc::LogLevel::error, dc::LogLevel::critical, dc::LogLevel::off}) {
    BOOST_TEST((dc::parse_log_level(dc::to_string(level)) == level));
  }
}

BOOST_AUTO_TEST_CASE(recording_logger_keeps_every_line_with_its_level) {
  dc::testing::RecordingLogger logger;
  logger.debug("polled", {{"records", 3}});
  logger.error("lost connection");
  const auto lines = logger.lines();
  BOOST_REQUIRE(lines.size() == 2u);
  BOOST_TEST((lines[0].level == dc::LogLevel::debug));
  BOOST_TEST(lines[0].text == "event=polled records=3");
  BOOST_TEST(lines[1].text == R"(event="lost connection")");
}

BOOST_AUTO_TEST_CASE(stderr_logger_filters_below_its_threshold) {
  dc::testing::StderrLogger logger(dc::LogLevel::warn);
  BOOST_TEST(!logger.enabled(dc::LogLevel::info));
  BOOST_TEST(logger.enabled(dc::LogLevel::warn));
  BOOST_TEST(!logger.enabled(dc::LogLevel::off));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(metric_handles)

// The checks every Metrics implementation must apply.
void check_refusals(dc::Metrics& metrics) {
  const auto refuses = [](auto&& register_metric, const std::string& expected) {
    try {
      register_metric();
      BOOST_ERROR("expected a refusal mentioning " << expected);
    } catch (const dc::ConnectorError& error) {
      BOOST_TEST((error.kind() == dc::ErrorKind::fatal));
      BOOST_TEST(error.message().find(expected) != std::string::npos, error.message());
    }
  };
  refuses([&] { metrics.counter("9lives", "h"); }, "invalid metric name '9lives'");
  refuses([&] { metrics.counter("has-dash", "h"); }, "invalid metric name 'has-dash'");
  refuses([&] { metrics.counter("", "h"); }, "invalid metric name ''");
  refuses([&] { metrics.gauge("danube_connector_inflight", "h"); }, "belongs to the runtime");
  refuses([&] { metrics.counter("ok_total", "h", {{"connector", "x"}}); }, "added by the runtime");
  refuses([&] { metrics.counter("ok_total", "h", {{"__reserved", "x"}}); }, "__reserved");
  refuses([&] { metrics.counter("ok_total", "h", {{"bad label", "x"}}); }, "bad label");
  refuses([&] { metrics.histogram("lat_seconds", "h", {0.1, 0.1}); }, "strictly increasing");
  metrics.counter("kind_total", "h");
  refuses([&] { metrics.gauge("kind_total", "h"); }, "kind_total");
}

BOOST_AUTO_TEST_CASE(in_memory_metrics_count_and_refuse_like_the_runtime) {
  dc::testing::InMemoryMetrics metrics;
  auto& rows = metrics.counter("rows_total", "Rows written", {{"table", "orders"}});
  rows.increment();
  rows.increment(4);
  BOOST_TEST(&metrics.counter("rows_total", "Rows written", {{"table", "orders"}}) == &rows);
  BOOST_TEST(metrics.counter("rows_total", "Rows written", {{"table", "items"}}).value() == 0.0);
  BOOST_TEST(rows.value() == 5.0);
  BOOST_CHECK_THROW(rows.increment(-1), dc::ConnectorError);
  auto& depth = metrics.gauge("queue_depth", "Queued rows");
  depth.set(10);
  depth.decrement(3);
  depth.increment();
  BOOST_TEST(depth.value() == 8.0);
  auto& latency = metrics.histogram("write_seconds", "Write latency", {0.01, 0.1, 1});
  latency.observe(0.05);
  latency.observe(0.25);
  BOOST_TEST(latency.count() == 2u);
  BOOST_TEST(latency.sum() == 0.3, boost::test_tools::tolerance(1e-9));
  check_refusals(metrics);
}

BOOST_AUTO_TEST_CASE(runtime_metrics_are_exported_with_the_connector_label) {
  auto registry = std::make_shared<prometheus::Registry>();
  danube::services::CustomMetrics metrics(registry, "orders-sink");
  auto& rows = metrics.counter("rows_total", "Rows written", {{"table", "orders"}});
  rows.increment(3);
  BOOST_TEST(&metrics.counter("rows_total", "Rows written", {{"table", "orders"}}) == &rows);
  metrics.gauge("queue_depth", "Queued rows").set(7);
  auto& latency = metrics.histogram("write_seconds", "Write latency", {0.01, 0.1, 1});
  latency.observe(0.05);
  BOOST_TEST(rows.value() == 3.0);
  BOOST_TEST(latency.count() == 1u);
  BOOST_TEST(latency.sum() == 0.05, boost::test_tools::tolerance(1e-9));

  const auto text = danube::services::render_metrics(*registry);
  BOOST_TEST(text.find("# HELP rows_total Rows written") != std::string::npos, text);
  BOOST_TEST(
      text.find(R"(rows_total{connector="orders-sink",table="orders"} 3)") != std::string::npos,
      text);
  BOOST_TEST(text.find(R"(queue_depth{connector="orders-sink"} 7)") != std::string::npos, text);
  BOOST_TEST(
      text.find(R"(write_seconds_bucket{connector="orders-sink",le="0.1"} 1)") != std::string::npos,
      text);
  check_refusals(metrics);
}

BOOST_AUTO_TEST_CASE(a_name_taken_by_another_kind_elsewhere_in_the_registry_is_refused) {
  auto registry = std::make_shared<prometheus::Registry>();
  danube::services::CustomMetrics first(registry, "a");
  danube::services::CustomMetrics second(registry, "b");
  first.counter("shared_total", "h").increment();
  second.counter("shared_total", "h").increment(2);  // same kind: one family, two series
  BOOST_CHECK_THROW(second.gauge("shared_total", "h"), dc::ConnectorError);
  const auto text = danube::services::render_metrics(*registry);
  BOOST_TEST(text.find(R"(shared_total{connector="b"} 2)") != std::string::npos, text);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(context)

BOOST_AUTO_TEST_CASE(standalone_context_carries_config_offsets_and_working_services) {
  dc::ConnectorConfig config;
  config.connector_name = "orders";
  const auto context = dc::ConnectorContext::standalone(config, {dc::Offset("p", 4)});
  BOOST_TEST(context.connector_name() == "orders");
  BOOST_TEST(context.config().connector_name == "orders");
  BOOST_REQUIRE(context.resume_offsets().size() == 1u);
  BOOST_TEST(context.resume_offsets()[0].value == 4u);
  context.metrics().counter("seen_total", "h").increment();
  const auto copy = context;  // copies share everything
  BOOST_TEST(copy.metrics().counter("seen_total", "h").value() == 1.0);
  BOOST_TEST(&copy.logger() == &context.logger());
}

BOOST_AUTO_TEST_CASE(what_a_context_hands_out_outlives_the_context) {
  dc::Counter* counter = nullptr;
  std::optional<dc::ConnectorContext> kept;
  {
    const auto context = dc::ConnectorContext::standalone();
    counter = &context.metrics().counter("kept_total", "h");
    kept.emplace(context);
  }
  counter->increment(2);
  BOOST_TEST(kept->metrics().counter("kept_total", "h").value() == 2.0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(source_sender)

BOOST_AUTO_TEST_CASE(sender_over_a_recording_channel_stops_once_it_closes) {
  auto channel = std::make_shared<dc::testing::RecordingSourceChannel>();
  const dc::SourceSender sender(channel);
  BOOST_TEST(sender.send(dc::SourceRecord::from_number("", 1)));
  BOOST_TEST(sender.send_batch({dc::SourceEnvelope(dc::SourceRecord::from_number("", 2)),
                                dc::SourceEnvelope(dc::SourceRecord::from_number("", 3))}) == 2u);
  BOOST_TEST(channel->received().size() == 3u);
  channel->close();
  BOOST_TEST(sender.is_closed());
  BOOST_TEST(!sender.send(dc::SourceRecord::from_number("", 4)));
  BOOST_CHECK_THROW(sender.send_or_throw(dc::SourceRecord::from_number("", 5)), dc::ConnectorError);
  BOOST_TEST(channel->received().size() == 3u);
}

BOOST_AUTO_TEST_CASE(wait_for_returns_once_enough_arrived_from_another_thread) {
  auto channel = std::make_shared<dc::testing::RecordingSourceChannel>();
  std::jthread producer([sender = dc::SourceSender(channel)] {
    for (int i = 0; i < 50; ++i)
      sender.send(dc::SourceRecord::from_number("", i));
  });
  const auto received = channel->wait_for(50, 30s);
  BOOST_TEST(received.size() == 50u);
}

BOOST_AUTO_TEST_CASE(the_runtime_channel_is_a_source_channel_with_backpressure) {
  auto channel = danube::services::EnvelopeChannel::create(2);
  const dc::SourceSender sender = channel->sender();
  BOOST_TEST(sender.send(dc::SourceRecord::from_number("", 1)));
  BOOST_TEST(sender.send(dc::SourceRecord::from_number("", 2)));
  BOOST_TEST(
      (sender.send_for(dc::SourceRecord::from_number("", 3), 10ms) == dc::SendStatus::timed_out));
  BOOST_TEST(channel->try_receive(10).size() == 2u);
  channel->close();
  BOOST_TEST(!sender.send(dc::SourceRecord::from_number("", 4)));
}

BOOST_AUTO_TEST_SUITE_END()
