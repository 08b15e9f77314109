// The connectors of docs/author-guide.md, compiled and exercised without a broker, the way the
// guide tells authors to test theirs. Keep the two in sync.
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "danube/connect/connect.hpp"
#include "test_support.hpp"

namespace dc = danube::connect;
using danube::connect::test::TempDir;

// --- guide: sink -------------------------------------------------------------------------------
class JsonLinesSink : public dc::SinkConnector {
 public:
  void initialize(const dc::ConnectorConfig& config) override {
    const auto section = config.section("jsonl");
    section.reject_unknown_keys({"path", "topic", "subscription"});
    path_ = section.require_string("path");
    topic_ = section.get_topic("topic", "/default/events");
    subscription_ = section.get_string("subscription", config.connector_name + "-sub");
    out_.open(path_, std::ios::app);
    if (!out_) section.fail("path", "cannot open " + path_ + " for appending");
  }

  std::vector<dc::ConsumerConfig> consumer_configs() override {
    return {{topic_, "jsonl-consumer", subscription_, dc::SubscriptionType::shared, {}, {}}};
  }

  dc::BatchResult process_batch(std::span<const dc::SinkRecord> records) override {
    dc::BatchResult result(records.size());
    for (std::size_t i = 0; i < records.size(); ++i) {
      try {
        nlohmann::json line{{"topic", records[i].topic()},
                            {"offset", records[i].offset()},
                            {"value", records[i].as_json()}};
        out_ << line.dump() << '\n';
      } catch (const dc::ConnectorError& error) {
        result.fail(i, error);  // e.g. invalid_data: this record goes to the dead-letter topic
      }
    }
    out_.flush();
    if (!out_) {
      // The disk may come back: retry the whole batch later.
      return dc::BatchResult::all_failed(
          records.size(), dc::ConnectorError::retryable("write to " + path_ + " failed"));
    }
    return result;
  }

  void shutdown() override { out_.close(); }

  void health_check() override {
    if (!out_.is_open()) throw dc::ConnectorError::fatal("output file is closed");
  }

 private:
  std::string path_;
  std::string topic_;
  std::string subscription_;
  std::ofstream out_;
};

// --- guide: polling source ---------------------------------------------------------------------
class CounterSource : public dc::SourceConnector {
 public:
  void initialize(const dc::ConnectorConfig& config,
                  const std::vector<dc::Offset>& resume_offsets) override {
    limit_ = static_cast<std::uint64_t>(
        config.section("counter").get_integer("limit", 100, 1, 1'000'000));
    for (const auto& offset : resume_offsets) {
      if (offset.partition == "counter") next_ = offset.value + 1;  // resume after the last one
    }
  }

  std::vector<dc::ProducerConfig> producer_configs() override {
    return {dc::ProducerConfig("/default/counter", 0, true)};
  }

  std::vector<dc::SourceEnvelope> poll() override {
    std::vector<dc::SourceEnvelope> batch;
    for (int i = 0; i < 10 && next_ < limit_; ++i, ++next_) {
      auto record = dc::SourceRecord::from_json("", {{"n", next_}})  // "" = the default topic
                        .with_attribute("source", "counter")
                        .with_key("counter");
      batch.emplace_back(std::move(record), dc::Offset("counter", next_));
    }
    return batch;  // empty: the runtime waits processing.poll_interval_ms before polling again
  }

  void commit(const std::vector<dc::Offset>& offsets) override {
    for (const auto& offset : offsets)
      committed_ = offset.value;
  }

  std::uint64_t committed() const { return committed_; }

 private:
  std::uint64_t limit_ = 100;
  std::uint64_t next_ = 0;
  std::uint64_t committed_ = 0;
};

// --- guide: streaming source -------------------------------------------------------------------
class TickerSource : public dc::SourceConnector {
 public:
  void initialize(const dc::ConnectorConfig&, const std::vector<dc::Offset>&) override {}

  std::vector<dc::ProducerConfig> producer_configs() override {
    return {dc::ProducerConfig("/default/ticks", 0, false)};
  }

  dc::SourceMode mode() const override { return dc::SourceMode::streaming; }

  void start_streaming(dc::SourceSender sender) override {
    worker_ = std::jthread([sender](std::stop_token stop) {
      for (std::uint64_t tick = 0; !stop.stop_requested(); ++tick) {
        // send() blocks while the runtime is busy (backpressure) and returns false once the
        // runtime has closed the channel.
        if (!sender.send(dc::SourceRecord::from_number("", tick))) return;
      }
    });
  }

  void shutdown() override {
    worker_.request_stop();
    if (worker_.joinable()) worker_.join();
  }

 private:
  std::jthread worker_;
};

// --- guide: tests ------------------------------------------------------------------------------
BOOST_AUTO_TEST_CASE(sink_writes_good_records_and_reports_bad_ones) {
  TempDir dir;
  dc::ConnectorConfig config;
  config.connector_name = "jsonl-sink";
  config.custom_sections =
      dc::ConfigSection::parse("[jsonl]\npath = \"" + (dir.path() / "out.jsonl").string() + "\"\n");
  JsonLinesSink sink;
  sink.initialize(config);
  BOOST_TEST(sink.consumer_configs().at(0).subscription == "jsonl-sink-sub");

  std::vector<dc::SinkRecord> records{
      dc::SinkRecordBuilder().topic("/default/events").offset(1).payload(R"({"a":1})").build(),
      dc::SinkRecordBuilder().topic("/default/events").offset(2).payload("not json").build(),
  };
  const auto result = sink.process_batch(records);
  BOOST_TEST(result.ok(0));
  BOOST_TEST(result.error(1)->is_invalid_data());
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
    sink.initialize(config);
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
  source.initialize(config, {dc::Offset("counter", 9)});
  auto batch = source.poll();
  BOOST_TEST(batch.size() == 10u);
  BOOST_TEST(batch.front().record.payload().str() == R"({"n":10})");
  BOOST_TEST(batch.front().record.key().value() == "counter");
  BOOST_TEST(source.poll().size() == 5u);
  BOOST_TEST(source.poll().empty());
  source.commit({batch.back().offset.value()});
  BOOST_TEST(source.committed() == 19u);
}

BOOST_AUTO_TEST_CASE(streaming_source_feels_backpressure_and_stops_on_close) {
  TickerSource source;
  source.initialize({}, {});
  auto channel = dc::EnvelopeChannel::create(8);  // what the runtime does, with a small bound
  source.start_streaming(channel->sender());
  const auto first = channel->receive_for(100, std::chrono::seconds(10));
  BOOST_TEST(!first.empty());
  BOOST_TEST(first.size() <= 8u);  // never more than the channel holds
  BOOST_TEST(first.front().record.payload().str() == "0");
  channel->close();
  source.shutdown();  // returns: the blocked send() was released by close()
}
