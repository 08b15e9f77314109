// The connectors of docs/author-guide.md, compiled from the guide itself and exercised without a
// broker, the way the guide tells authors to test theirs.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "danube/connect/connect.hpp"
#include "danube/connect/testing.hpp"
#include "test_support.hpp"

namespace dc = danube::connect;
using danube::connect::test::TempDir;

// The guide's connectors, extracted from docs/author-guide.md at build time.
#include "author_guide_polling_source.inc"
#include "author_guide_sink.inc"
#include "author_guide_streaming_source.inc"

// The guide's own test, as written there.
BOOST_AUTO_TEST_SUITE(as_written_in_the_guide)
#include "author_guide_test.inc"
BOOST_AUTO_TEST_SUITE_END()

// --- guide: tests ------------------------------------------------------------------------------
BOOST_AUTO_TEST_CASE(sink_writes_good_records_and_reports_bad_ones) {
  TempDir dir;
  dc::ConnectorConfig config;
  config.connector_name = "jsonl-sink";
  config.custom_sections =
      dc::ConfigSection::parse("[jsonl]\npath = \"" + (dir.path() / "out.jsonl").string() + "\"\n");
  JsonLinesSink sink;
  auto logger = std::make_shared<dc::testing::RecordingLogger>();
  auto metrics = std::make_shared<dc::testing::InMemoryMetrics>();
  sink.initialize(dc::ConnectorContext(std::make_shared<const dc::ConnectorConfig>(config), {},
                                       logger, metrics));
  BOOST_TEST(sink.consumer_configs().at(0).subscription == "jsonl-sink-sub");
  BOOST_REQUIRE(logger->lines().size() == 1u);
  BOOST_TEST(logger->lines()[0].text.starts_with("event=jsonl_sink_ready path="));

  std::vector<dc::SinkRecord> records{
      dc::SinkRecordBuilder().topic("/default/events").offset(1).payload(R"({"a":1})").build(),
      dc::SinkRecordBuilder().topic("/default/events").offset(2).payload("not json").build(),
  };
  const auto result = sink.process_batch(records);
  BOOST_TEST(result.ok(0));
  BOOST_TEST(result.error(1)->is_invalid_data());
  BOOST_TEST(metrics->counter("jsonl_lines_written_total", "").value() == 1.0);
  sink.shutdown();

  std::ifstream in(dir.path() / "out.jsonl");
  std::string line;
  std::getline(in, line);
  BOOST_TEST(nlohmann::json::parse(line)["value"]["a"] == 1);
  BOOST_TEST(!std::getline(in, line));
}

BOOST_AUTO_TEST_CASE(sink_validates_its_own_section) {
  dc::ConnectorConfig config;
  config.custom_sections = dc::ConfigSection::parse("[jsonl]\npaht = \"/tmp/x\"\n", "c.toml");
  JsonLinesSink sink;
  try {
    sink.initialize(dc::ConnectorContext::standalone(config));
    BOOST_FAIL("expected a ConfigError");
  } catch (const dc::ConfigError& error) {
    BOOST_TEST(std::string(error.what()) ==
               "config error: c.toml:2: [jsonl] paht: unknown key (known keys: path, topic, "
               "subscription)");
  }
}

BOOST_AUTO_TEST_CASE(polling_source_resumes_after_the_committed_offset) {
  dc::ConnectorConfig config;
  config.custom_sections = dc::ConfigSection::parse("[counter]\nlimit = 25\n");
  CounterSource source;
  source.initialize(dc::ConnectorContext::standalone(config, {dc::Offset("counter", 9)}));
  auto batch = source.poll();
  BOOST_TEST(batch.size() == 10u);
  BOOST_TEST(batch.front().record.payload().str() == R"({"n":10})");
  BOOST_TEST(batch.front().record.key().value() == "counter");
  BOOST_TEST(source.poll().size() == 5u);
  BOOST_TEST(source.poll().empty());
  source.commit({batch.back().offset.value()});
}

BOOST_AUTO_TEST_CASE(streaming_source_sends_until_the_channel_closes) {
  TickerSource source;
  source.initialize(dc::ConnectorContext::standalone());
  auto channel = std::make_shared<dc::testing::RecordingSourceChannel>();
  source.start_streaming(dc::SourceSender(channel));
  const auto first = channel->wait_for(5, std::chrono::seconds(10));
  BOOST_REQUIRE(first.size() >= 5u);
  BOOST_TEST(first.front().record.payload().str() == "0");
  BOOST_TEST(first[4].record.payload().str() == "4");
  channel->close();
  source.shutdown();  // returns: send() reports the closed channel and the loop ends
  BOOST_TEST(channel->is_closed());
}
