// simple_sink: prints what it receives, like the seed's example, and can also append every
// payload to a file (one per line) — a tiny "external system" that tests can inspect.
//
// Configuration: the usual connector TOML (CONNECTOR_CONFIG_PATH) or environment
// (DANUBE_SERVICE_URL, CONNECTOR_NAME), plus an optional [simple_sink] table:
//   topic = "/default/test"                 what to consume
//   subscription = "simple-sink-sub"
//   consumer_name = "simple-sink-consumer"
//   subscription_type = "Exclusive"         Exclusive, Shared, Failover or KeyShared
//   print_every = 1                         print one record in N (0 = none)
//   output_file = ""                        append payloads here when set
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>

#include "danube/connect/connect.hpp"
#include "danube/runtime/run.hpp"

namespace {

using namespace danube::connect;

// Printed payloads are cut here: a sink's console is no place for whole messages.
constexpr std::size_t kPrintedPayloadBytes = 80;

// The [simple_sink] table, read without touching anything outside the process, so that
// --check-config (RunOptions::check_config) can run it too.
struct SimpleSinkSettings {
  ConsumerConfig subscription;
  std::uint64_t print_every = 1;
  std::string output_file;
};

SimpleSinkSettings read_settings(const ConnectorConfig& config) {
  const ConfigSection table = config.has_section("simple_sink")
                                  ? config.section("simple_sink")
                                  : ConfigSection::parse("", "simple_sink defaults");
  table.reject_unknown_keys({"topic", "subscription", "consumer_name", "subscription_type",
                             "print_every", "output_file"});
  SimpleSinkSettings settings;
  settings.subscription.topic = table.get_topic("topic", "/default/test");
  settings.subscription.subscription = table.get_string("subscription", "simple-sink-sub");
  settings.subscription.consumer_name = table.get_string("consumer_name", "simple-sink-consumer");
  const auto parsed = parse_subscription_type(table.get_string("subscription_type", "Exclusive"));
  if (!parsed) table.fail("subscription_type", "must be Exclusive, Shared, Failover or KeyShared");
  settings.subscription.subscription_type = *parsed;
  settings.print_every =
      static_cast<std::uint64_t>(table.get_integer("print_every", 1, 0, INT64_MAX));
  settings.output_file = table.get_string("output_file", "");
  return settings;
}

class SimpleSink : public SinkConnector {
 public:
  void initialize(const ConnectorContext& context) override {
    started_ = std::chrono::steady_clock::now();  // shutdown() runs even when this throws
    const auto settings = read_settings(context.config());
    subscription_ = settings.subscription;
    print_every_ = settings.print_every;
    if (!settings.output_file.empty()) {
      output_ = std::make_unique<std::ofstream>(settings.output_file, std::ios::app);
      if (!*output_) {
        context.config()
            .section("simple_sink")
            .fail("output_file", "cannot open '" + settings.output_file + "' for appending");
      }
    }
  }

  std::vector<ConsumerConfig> consumer_configs() override { return {subscription_}; }

  BatchResult process_batch(std::span<const SinkRecord> records) override {
    for (const auto& record : records) {
      ++processed_;
      if (print_every_ > 0 && processed_ % print_every_ == 0) print(record);
      if (output_) *output_ << record.payload().view() << '\n';
    }
    if (output_) output_->flush();
    return BatchResult::all_ok(records.size());
  }

  void shutdown() override {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    std::printf("simple_sink: processed %llu records in %.1f s\n",
                static_cast<unsigned long long>(processed_), seconds);
    std::fflush(stdout);
  }

 private:
  void print(const SinkRecord& record) const {
    std::string payload(record.payload().view().substr(0, kPrintedPayloadBytes));
    std::string attributes;
    for (const auto& [name, value] : record.attributes()) {
      attributes += (attributes.empty() ? "" : ",") + name + "=" + value;
    }
    std::printf(
        "record topic=%s partition=%s offset=%llu producer=%s attributes={%s} payload=\"%s\"\n",
        record.topic().c_str(), record.partition_topic().c_str(),
        static_cast<unsigned long long>(record.offset()), record.producer_name().c_str(),
        attributes.c_str(), payload.c_str());
    std::fflush(stdout);
  }

  ConsumerConfig subscription_;
  std::uint64_t print_every_ = 1;
  std::unique_ptr<std::ofstream> output_;
  std::uint64_t processed_ = 0;
  std::chrono::steady_clock::time_point started_;
};

}  // namespace

int main(int argc, char** argv) {
  danube::runtime::RunOptions options;
  options.sections = {"simple_sink"};
  options.check_config = [](const ConnectorConfig& config) { (void)read_settings(config); };
  return danube::runtime::run_sink(argc, argv, std::make_unique<SimpleSink>(), options);
}
