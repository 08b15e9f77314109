// tally_sink: a sink written against the installed SDK's author API and run helpers. It takes
// messages "message-<i>" from CONSUMER_TOPIC and, when stopped, prints how many records it
// processed and how many distinct ones, on one line that delivery_check reads.
#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "danube/connect/connect.hpp"
#include "danube/runtime/run.hpp"

namespace {

using namespace danube::connect;

class TallySink : public RecordSinkConnector {
 public:
  void initialize(const ConnectorContext&) override {}

  std::vector<ConsumerConfig> consumer_configs() override {
    ConsumerConfig subscription;
    subscription.topic = CONSUMER_TOPIC;
    subscription.consumer_name = "tally-sink";
    subscription.subscription = "tally-sink-sub";
    subscription.subscription_type = SubscriptionType::exclusive;
    return {subscription};
  }

  void process(const SinkRecord& record) override {
    const std::string payload(record.as_string());
    if (!payload.starts_with("message-")) {
      throw ConnectorError::invalid_data("unexpected payload '" + payload + "'");
    }
    ++records_;
    distinct_.insert(payload);
  }

  void shutdown() override {
    std::printf("tally_sink records=%zu distinct=%zu\n", records_, distinct_.size());
    std::fflush(stdout);
  }

 private:
  std::size_t records_ = 0;
  std::set<std::string> distinct_;
};

}  // namespace

int main(int argc, char** argv) {
  return danube::runtime::run_sink(argc, argv, std::make_unique<TallySink>(),
                                   danube::runtime::RunOptions{});
}
