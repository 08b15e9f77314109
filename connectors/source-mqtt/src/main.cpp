// danube-source-mqtt: MQTT into Danube. Reads the Rust danube-source-mqtt's connector.toml and
// environment variables unchanged; see connectors/source-mqtt/README.md.
#include <csignal>
#include <memory>

#include "danube/runtime/run.hpp"
#include "mqtt_source.hpp"
#include "secrets.hpp"

int main() {
  // libmosquitto writes with write(2): a connection the broker closed must be an error to
  // handle, not a signal that ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  danube::runtime::RunOptions options;
  options.sections = {"mqtt"};
  options.adjust_config = [](danube::connect::ConnectorConfig& config) {
    // Each QoS 1/2 message waits for its commit before its MQTT acknowledgement: commit as soon
    // as anything settles unless the configuration says otherwise.
    if (!config.origins.contains("offsets.commit_interval_ms")) {
      config.offsets.commit_interval_ms = 0;
    }
  };
  return danube::runtime::run_source(
      std::make_unique<danube::source_mqtt::MqttSource>(&danube::connectors::environment_value),
      std::move(options));
}
