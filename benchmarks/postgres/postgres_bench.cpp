// danube-postgres-bench: rows per second into PostgreSQL, in one run on one server:
//   psql-copy:       psql's \copy of the rows from a file: the physical limit of the table;
//   connector-copy:  a backlog of Danube messages -> danube-sink-postgres (insert_method copy);
//   connector-insert: the same through multi-row INSERT statements (insert_method insert).
// Every path writes the same rows (same columns, same values, the same unique key on topic,
// partition and offset) into a table of its own with the same definition.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "danube/client/client.hpp"
#include "postgres_test_support.hpp"

namespace {

using namespace danube;
using namespace danube::chaos;
using namespace std::chrono_literals;

constexpr const char* kPublishTime = "2026-12-03 04:00:00+00";

std::string table_sql(const std::string& name) {
  return "CREATE TABLE " + name +
         " (n bigint NOT NULL, sensor text, value double precision, at timestamptz, payload "
         "jsonb, danube_topic text, danube_partition integer, danube_offset bigint, "
         "danube_publish_time timestamptz, danube_routing_key text, danube_attributes jsonb, "
         "UNIQUE (danube_topic, danube_partition, danube_offset))";
}

std::string payload(std::size_t n) {
  return R"({"n":)" + std::to_string(n) + R"(,"sensor":"s-)" + std::to_string(n % 16) +
         R"(","value":)" + std::to_string(static_cast<double>(n) * 0.5) +
         R"(,"at":"2026-12-03T04:00:00Z","unit":"celsius","site":"north-hall"})";
}

struct Figures {
  std::string path;
  std::size_t rows = 0;
  double seconds = 0;
  double transaction_seconds = 0;  // connector: time inside its PostgreSQL transactions
  double rate() const { return seconds > 0 ? static_cast<double>(rows) / seconds : 0; }
};

void print(const Figures& figures, double limit) {
  std::printf(
      "%-17s rows=%zu seconds=%.3f rows_per_s=%.0f of_psql_copy=%.2f in_transactions_s=%.3f\n",
      figures.path.c_str(), figures.rows, figures.seconds, figures.rate(),
      limit > 0 ? figures.rate() / limit : 1.0, figures.transaction_seconds);
  std::fflush(stdout);
}

// psql \copy of the rows the connector would write for `messages` messages on `topic`.
Figures psql_copy(const postgres_test::PostgresServer& server, const std::filesystem::path& dir,
                  const std::string& table, std::size_t messages) {
  const auto file = dir / (table + ".copy");
  {
    std::ofstream out(file);
    for (std::size_t n = 0; n < messages; ++n) {
      out << n << "\ts-" << n % 16 << '\t' << static_cast<double>(n) * 0.5
          << "\t2026-12-03T04:00:00Z\t" << payload(n) << "\t/default/bench\t0\t" << n << '\t'
          << kPublishTime << "\t\\N\t{}\n";
    }
  }
  server.query(table_sql(table));
  const std::string command = "psql -X -q -h " + server.socket_directory().string() + " -p " +
                              std::to_string(server.port()) + " -U postgres -d postgres -c " +
                              "\"\\copy " + table + " FROM '" + file.string() + "'\"";
  const auto started = Clock::now();
  if (std::system(command.c_str()) != 0) throw std::runtime_error("psql failed: " + command);
  const double seconds = static_cast<double>(millis_since(started)) / 1000.0;
  const auto rows = static_cast<std::size_t>(server.count(table));
  return {"psql-copy", rows, seconds};
}

struct Options {
  std::size_t messages = 100'000;
  std::size_t batch_size = 1000;
  std::string broker;
  std::string connector;
};

Figures through_connector(const Options& options, BrokerProcess& broker,
                          const postgres_test::PostgresServer& server,
                          const std::filesystem::path& dir, const std::string& method) {
  const std::string table = "readings_" + method;
  const std::string topic = "/default/bench-" + method;
  server.query(table_sql(table));
  ConnectorToml toml;
  toml.service_url = broker.service_url();
  toml.connector_name = "bench-" + method;
  toml.batch_size = options.batch_size;
  toml.max_inflight_records = 4 * options.batch_size;
  toml.extra = "[offsets]\nstate_dir = \"" + (dir / (method + "-state")).string() + "\"\n" +
               "[postgres]\nconnection = \"" + server.tcp_connection() +
               "\"\npassword_env = \"PG_BENCH_PASSWORD\"\ninsert_method = \"" + method + "\"\n" +
               "[[postgres.routes]]\nfrom = \"" + topic + "\"\nto = \"" + table + "\"\n" +
               "[[postgres.routes.columns]]\ncolumn = \"n\"\ntype = \"bigint\"\n" +
               "[[postgres.routes.columns]]\ncolumn = \"sensor\"\n" +
               "[[postgres.routes.columns]]\ncolumn = \"value\"\ntype = \"double\"\n" +
               "[[postgres.routes.columns]]\ncolumn = \"at\"\ntype = \"timestamptz\"\n";
  const auto config = dir / (method + ".toml");
  write_text_file(config, toml.render());
  ConnectorProcess connector("bench-" + method, options.connector, config, dir);
  connector.set_environment({std::string("PG_BENCH_PASSWORD=") + postgres_test::kPassword});
  // Create the subscription, then stop: the messages published next wait as a backlog, so the
  // figure is the sink's rate, not the producer's.
  connector.start();
  connector.signal(SIGTERM);
  if (!connector.wait(30s).clean()) throw std::runtime_error("connector did not stop cleanly");

  client::ClientOptions client_options;
  client_options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(client_options);
  if (!client.ok()) throw std::runtime_error("client");
  client::ProducerOptions producer_options;
  producer_options.topic = topic;
  producer_options.name = "bench-producer-" + method;
  producer_options.dispatch = client::Dispatch::reliable;
  auto producer = client.value().create_producer(producer_options);
  if (!producer.ok()) throw std::runtime_error("producer");
  for (std::size_t n = 0; n < options.messages; ++n) {
    producer.value()->send_async({payload(n), {}, std::nullopt}, [](auto) {});
  }
  if (!producer.value()->flush(120s)) throw std::runtime_error("publish did not finish");

  connector.start();
  const auto started = Clock::now();
  const bool done = wait_until(
      [&] {
        return scrape_metric(connector.http_port(), "postgres_rows_written_total").value_or(0) >=
               static_cast<double>(options.messages);
      },
      600s);
  const double seconds = static_cast<double>(millis_since(started)) / 1000.0;
  const double in_transactions =
      scrape_metric(connector.http_port(), "postgres_transaction_seconds_sum").value_or(0);
  connector.signal(SIGTERM);
  connector.wait(30s);
  if (!done) throw std::runtime_error(method + ": not all rows arrived\n" + connector.log().tail());
  return {"connector-" + method, static_cast<std::size_t>(server.count(table)), seconds,
          in_transactions};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"rows per second into PostgreSQL through danube-sink-postgres and psql"};
  Options options;
  app.add_option("--messages", options.messages, "messages (rows) per path");
  app.add_option("--batch-size", options.batch_size, "the sink's [processing] batch_size");
  app.add_option("--broker", options.broker, "danube-embedded-broker")->required();
  app.add_option("--connector", options.connector, "danube-sink-postgres")->required();
  CLI11_PARSE(app, argc, argv);
  try {
    ScratchDirectory dir("postgres-bench");
    BrokerProcess broker(
        options.broker, dir.path(),
        {"--max-unacked", std::to_string(4 * options.batch_size), "--topic", "/default/bench-copy",
         "--topic", "/default/bench-insert", "--log-level", "warn"});
    broker.start();
    postgres_test::PostgresServer server(dir.path() / "pg", {.fsync = true});
    server.start();
    if (std::getenv("PG_BENCH_LOG_STATEMENTS")) {
      server.query("ALTER SYSTEM SET log_min_duration_statement = 0");
      server.query("SELECT pg_reload_conf()");
    }
    std::printf("messages=%zu batch_size=%zu (PostgreSQL 15, fsync on, one server)\n",
                options.messages, options.batch_size);
    const auto raw_before = psql_copy(server, dir.path(), "readings_raw1", options.messages);
    const auto copy = through_connector(options, broker, server, dir.path(), "copy");
    const auto insert = through_connector(options, broker, server, dir.path(), "insert");
    const auto raw_after = psql_copy(server, dir.path(), "readings_raw2", options.messages);
    const double limit = std::max(raw_before.rate(), raw_after.rate());
    print(raw_before, limit);
    print(copy, limit);
    print(insert, limit);
    print(raw_after, limit);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "danube-postgres-bench: %s\n", error.what());
    return 1;
  }
  return 0;
}
