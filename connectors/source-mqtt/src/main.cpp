// danube-source-mqtt: MQTT into Danube. Reads the Rust danube-source-mqtt's connector.toml and
// environment variables unchanged; see connectors/source-mqtt/README.md.
#include <csignal>
#include <memory>

#include "danube/runtime/run.hpp"
#include "mqtt_source.hpp"
#include "secrets.hpp"

int main(int argc, char** argv) {
  // libmosquitto writes with write(2): a connection the broker closed must be an error to
  // handle, not a signal that ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  danube::runtime::RunOptions options;
  options.sections = {"mqtt"};
  options.adjust_config = [](danube::connect::ConnectorConfig& config) {
    // QoS 1/2 acknowledgements wait for the commit of their messages: commit every 20 ms (not
    // the SDK's 1 s) unless the configuration says otherwise. Measured on the QoS 1 benchmark:
    // 20 ms moved 1.5-2x the messages per second of committing after every settlement, whose
    // fsyncs then dominate.
    if (!config.origins.contains("offsets.commit_interval_ms")) {
      config.offsets.commit_interval_ms = 20;
    }
  };
  options.check_config = [](const danube::connect::ConnectorConfig& config) {
    (void)danube::source_mqtt::read_mqtt_settings(config, &danube::connectors::environment_value);
  };
  return danube::runtime::run_source(
      argc, argv,
      std::make_unique<danube::source_mqtt::MqttSource>(&danube::connectors::environment_value),
      std::move(options));
}
