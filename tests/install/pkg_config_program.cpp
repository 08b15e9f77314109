// A connector in one file, built by pkg_config_test.sh with nothing but
// `pkg-config --cflags --libs danube_connect`: the author API and the run helpers.
#include <memory>

#include "danube/connect/connect.hpp"
#include "danube/runtime/run.hpp"

namespace {

class DiscardSink : public danube::connect::RecordSinkConnector {
 public:
  void initialize(const danube::connect::ConnectorContext&) override {}
  std::vector<danube::connect::ConsumerConfig> consumer_configs() override {
    return {{"/default/discarded",
             "discard-consumer",
             "discard-sub",
             danube::connect::SubscriptionType::shared,
             {},
             {}}};
  }
  void process(const danube::connect::SinkRecord&) override {}
};

}  // namespace

int main(int argc, char** argv) {
  return danube::runtime::run_sink(argc, argv, std::make_unique<DiscardSink>());
}
