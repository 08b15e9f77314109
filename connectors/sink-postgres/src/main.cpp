// danube-sink-postgres: Danube topics into PostgreSQL tables; see
// connectors/sink-postgres/README.md.
#include <csignal>
#include <memory>

#include "danube/runtime/run.hpp"
#include "postgres_sink.hpp"
#include "secrets.hpp"

int main(int argc, char** argv) {
  // libpq writes to sockets the server may have closed: an error to handle, not a signal that
  // ends the process.
  std::signal(SIGPIPE, SIG_IGN);
  danube::runtime::RunOptions options;
  options.sections = {"postgres"};
  options.adjust_config = [](danube::connect::ConnectorConfig& config) {
    // A batch that fails because PostgreSQL is away is retried, and dead-lettered only once the
    // retries are spent. The SDK's 3 retries (about 7 s) would dead-letter whatever arrives
    // during a database restart or failover; 100 retries with backoff capped at 10 s ride out
    // a quarter of an hour, and the next attempt after the database returns comes within 10 s.
    if (!config.origins.contains("retry.max_retries")) config.retry.max_retries = 100;
    if (!config.origins.contains("retry.max_backoff_ms")) config.retry.max_backoff_ms = 10'000;
  };
  options.check_config = [](const danube::connect::ConnectorConfig& config) {
    // What can be checked without a database; tables and columns are checked at start.
    (void)danube::sink_postgres::read_postgres_settings(config,
                                                        &danube::connectors::environment_value);
  };
  return danube::runtime::run_sink(
      argc, argv,
      std::make_unique<danube::sink_postgres::PostgresSink>(&danube::connectors::environment_value),
      std::move(options));
}
