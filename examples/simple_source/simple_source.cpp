// simple_source: generates numbered test messages with attributes, like the seed's example,
// and keeps an offset per message so a restarted source resumes after the last committed one.
//
// Configuration: the usual connector TOML (CONNECTOR_CONFIG_PATH) or environment
// (DANUBE_SERVICE_URL, CONNECTOR_NAME), plus an optional [simple_source] table:
//   topic = "/default/test"      where to publish
//   message_count = 100          how many messages in all (0 = no end)
//   first_number = 0             the number of the first message; instances that publish side
//                                by side (one per partition, docs/scaling.md) take disjoint ranges
//   batch_size = 5               messages per poll()
//   interval_ms = 1000           pause between polls that produce messages
//   partitions = 0               partitions of the topic (0 = not partitioned)
//   keys = 0                     route by key "key-<n mod keys>" when > 0
//   reliable = true              reliable dispatch
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "danube/connect/connect.hpp"
#include "danube/runtime/run.hpp"

namespace {

using namespace danube::connect;

constexpr const char* kOffsetPartition = "generator";

// The [simple_source] table, read without touching anything outside the process, so that
// --check-config (RunOptions::check_config) can run it too.
struct SimpleSourceSettings {
  std::string topic;
  std::uint64_t message_count = 100;
  std::uint64_t first_number = 0;
  std::size_t batch_size = 5;
  std::chrono::milliseconds interval{1000};
  std::size_t partitions = 0;
  std::uint64_t keys = 0;
  bool reliable = true;
};

SimpleSourceSettings read_settings(const ConnectorConfig& config) {
  const ConfigSection table = config.has_section("simple_source")
                                  ? config.section("simple_source")
                                  : ConfigSection::parse("", "simple_source defaults");
  table.reject_unknown_keys({"topic", "message_count", "first_number", "batch_size", "interval_ms",
                             "partitions", "keys", "reliable"});
  SimpleSourceSettings settings;
  settings.topic = table.get_topic("topic", "/default/test");
  settings.message_count =
      static_cast<std::uint64_t>(table.get_integer("message_count", 100, 0, INT64_MAX));
  settings.first_number =
      static_cast<std::uint64_t>(table.get_integer("first_number", 0, 0, INT64_MAX / 2));
  settings.batch_size = static_cast<std::size_t>(table.get_integer("batch_size", 5, 1, 100'000));
  settings.interval =
      std::chrono::milliseconds(table.get_integer("interval_ms", 1000, 0, 3'600'000));
  settings.partitions = static_cast<std::size_t>(table.get_integer("partitions", 0, 0, 10'000));
  settings.keys = static_cast<std::uint64_t>(table.get_integer("keys", 0, 0, 1'000'000));
  settings.reliable = table.get_bool("reliable", true);
  return settings;
}

class SimpleSource : public SourceConnector {
 public:
  void initialize(const ConnectorContext& context) override {
    settings_ = read_settings(context.config());
    for (const auto& offset : context.resume_offsets()) {
      if (offset.partition == kOffsetPartition) next_ = offset.value + 1;
    }
    context_.emplace(context);
    generated_ = &context.metrics().counter("simple_source_generated_total",
                                            "Records the simple source generated");
    context.logger().info("simple_source_ready", {{"topic", settings_.topic},
                                                  {"message_count", settings_.message_count},
                                                  {"resume_from", next_}});
  }

  std::vector<ProducerConfig> producer_configs() override {
    return {ProducerConfig(settings_.topic, settings_.partitions, settings_.reliable)};
  }

  std::vector<SourceEnvelope> poll() override {
    if (settings_.message_count > 0 && next_ >= settings_.message_count)
      return {};  // done: stay idle
    const auto now = std::chrono::steady_clock::now();
    if (settings_.interval.count() > 0 && now < next_poll_) return {};
    next_poll_ = now + settings_.interval;
    std::vector<SourceEnvelope> batch;
    for (std::size_t i = 0; i < settings_.batch_size &&
                            (settings_.message_count == 0 || next_ < settings_.message_count);
         ++i, ++next_) {
      const auto timestamp = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
      // The offset counts this instance's messages; the number names the message.
      const std::uint64_t number = settings_.first_number + next_;
      auto record = SourceRecord::from_string("", "Test message #" + std::to_string(number) +
                                                      " - Timestamp: " + std::to_string(timestamp))
                        .with_attribute("source", "simple_source")
                        .with_attribute("message_number", std::to_string(number))
                        .with_attribute("batch_index", std::to_string(i));
      if (settings_.keys > 0) record.with_key("key-" + std::to_string(number % settings_.keys));
      batch.emplace_back(std::move(record), Offset(kOffsetPartition, next_));
    }
    generated_->increment(static_cast<double>(batch.size()));
    return batch;
  }

  void commit(const std::vector<Offset>& offsets) override {
    for (const auto& offset : offsets)
      committed_ = offset.value;
  }

  void shutdown() override {
    if (context_) {
      context_->logger().info("simple_source_done",
                              {{"generated", next_}, {"last_committed", committed_}});
    }
  }

 private:
  std::optional<ConnectorContext> context_;  // its logger, after initialize()
  Counter* generated_ = nullptr;
  SimpleSourceSettings settings_;
  std::uint64_t next_ = 0;
  std::uint64_t committed_ = 0;
  std::chrono::steady_clock::time_point next_poll_{};
};

}  // namespace

int main(int argc, char** argv) {
  danube::runtime::RunOptions options;
  options.sections = {"simple_source"};
  options.check_config = [](const ConnectorConfig& config) { (void)read_settings(config); };
  return danube::runtime::run_source(argc, argv, std::make_unique<SimpleSource>(), options);
}
