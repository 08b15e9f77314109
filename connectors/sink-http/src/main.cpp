// danube-sink-http: Danube topics into HTTP endpoints. See connectors/sink-http/README.md.
#include <csignal>
#include <memory>

#include "danube/runtime/run.hpp"
#include "http_sink.hpp"
#include "http_sink_settings.hpp"
#include "secrets.hpp"

int main(int argc, char** argv) {
  // A server that closes a kept-alive connection must be an error for libcurl to handle (it
  // retries on a fresh connection), not a signal that ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  danube::runtime::RunOptions options;
  options.sections = {"http_sink"};
  options.check_config = [](const danube::connect::ConnectorConfig& config) {
    (void)danube::sink_http::read_http_sink_settings(config,
                                                     &danube::connectors::environment_value);
  };
  return danube::runtime::run_sink(
      argc, argv,
      std::make_unique<danube::sink_http::HttpSink>(&danube::connectors::environment_value),
      std::move(options));
}
