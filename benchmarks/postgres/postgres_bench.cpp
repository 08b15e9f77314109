// danube-postgres-bench: rows per second into PostgreSQL, in one run on one server:
//   psql-copy:       psql's \copy of the rows from a file: the physical limit of the table;
//   connector-copy:  a backlog of Danube messages -> danube-sink-postgres (insert_method copy);
//   connector-insert: the same through multi-row INSERT statements (insert_method insert);
//   client-drain:     the same backlog received and acked by a bare Danube client, with no
//                     database: what this machine's broker and client path allow at most;
//   sink-in-process:  the connector's own code (mapping, COPY, transactions) fed the same
//                     records by process_batch in this process, with no broker: what the write
//                     path allows at most.
// Every path writes the same rows (same columns, same values, the same unique key on topic,
// partition and offset) into a table of its own with the same definition.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "danube/client/client.hpp"
#include "danube/connect/config_section.hpp"
#include "danube/connect/connector_context.hpp"
#include "danube/connect/sink_record.hpp"
#include "postgres_sink.hpp"
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

// The connector's [postgres] table for one path: the same mapping on every path.
std::string postgres_section(const postgres_test::PostgresServer& server, const std::string& method,
                             const std::string& topic, const std::string& table) {
  return "[postgres]\nconnection = \"" + server.tcp_connection() +
         "\"\npassword_env = \"PG_BENCH_PASSWORD\"\ninsert_method = \"" + method + "\"\n" +
         "[[postgres.routes]]\nfrom = \"" + topic + "\"\nto = \"" + table + "\"\n" +
         "[[postgres.routes.columns]]\ncolumn = \"n\"\ntype = \"bigint\"\n" +
         "[[postgres.routes.columns]]\ncolumn = \"sensor\"\n" +
         "[[postgres.routes.columns]]\ncolumn = \"value\"\ntype = \"double\"\n" +
         "[[postgres.routes.columns]]\ncolumn = \"at\"\ntype = \"timestamptz\"\n";
}

struct Options {
  std::size_t messages = 100'000;
  std::size_t batch_size = 1000;
  std::string broker;
  std::string connector;
  std::vector<std::string> only;  // paths to run; all when empty
};

client::DanubeClient connect_client(const BrokerProcess& broker) {
  client::ClientOptions client_options;
  client_options.service_url = broker.service_url();
  auto client = client::DanubeClient::create(client_options);
  if (!client.ok()) throw std::runtime_error("client: " + client.error().message());
  return std::move(client).value();
}

void publish_backlog(const BrokerProcess& broker, const std::string& topic, std::size_t messages) {
  auto client = connect_client(broker);
  client::ProducerOptions producer_options;
  producer_options.topic = topic;
  producer_options.name = "bench-producer-" + topic.substr(topic.rfind('/') + 1);
  producer_options.dispatch = client::Dispatch::reliable;
  auto producer = client.create_producer(producer_options);
  if (!producer.ok()) throw std::runtime_error("producer");
  for (std::size_t n = 0; n < messages; ++n) {
    producer.value()->send_async({payload(n), {}, std::nullopt}, [](auto) {});
  }
  if (!producer.value()->flush(120s)) throw std::runtime_error("publish did not finish");
}

// The same backlog, received and acked by a bare client with no database behind it.
Figures client_drain(const Options& options, const BrokerProcess& broker) {
  const std::string topic = "/default/bench-client";
  auto client = connect_client(broker);
  client::ConsumerOptions consumer_options;
  consumer_options.topic = topic;
  consumer_options.consumer_name = "bench-client";
  consumer_options.subscription = "bench-client";
  consumer_options.type = client::SubscriptionType::exclusive;
  auto subscribed = client.subscribe(consumer_options);
  if (!subscribed.ok()) throw std::runtime_error("subscribe: " + subscribed.error().message());
  auto consumer = std::move(subscribed).value();
  // Subscribed before the backlog is published, like the connectors' subscriptions.
  publish_backlog(broker, topic, options.messages);
  const auto started = Clock::now();
  std::size_t received = 0;
  while (received < options.messages && millis_since(started) < 600'000) {
    for (auto& message : consumer->receive(1000, 100ms)) {
      consumer->ack_async(message);
      ++received;
    }
  }
  if (!consumer->flush_acks(60s)) throw std::runtime_error("client-drain: acks did not finish");
  const double seconds = static_cast<double>(millis_since(started)) / 1000.0;
  consumer->close();
  if (received < options.messages) throw std::runtime_error("client-drain: backlog not received");
  return {"client-drain", received, seconds};
}

// The connector's write path alone: PostgresSink::process_batch over the rows the broker path
// would deliver, in batches of batch_size, with no broker and no runtime.
Figures sink_in_process(const Options& options, const postgres_test::PostgresServer& server) {
  const std::string table = "readings_inproc";
  const std::string topic = "/default/bench-inproc";
  server.query(table_sql(table));
  connect::ConnectorConfig config;
  config.connector_name = "bench-inproc";
  config.custom_sections =
      connect::ConfigSection::parse(postgres_section(server, "copy", topic, table), "bench.toml");
  std::vector<connect::SinkRecord> records;
  records.reserve(options.messages);
  connect::SinkRecordBuilder builder;
  builder.topic(topic).partition_topic(topic).publish_time_us(1'796'270'400'000'000);
  for (std::size_t n = 0; n < options.messages; ++n)
    records.push_back(builder.payload(payload(n)).offset(n).build());
  sink_postgres::PostgresSink sink([](std::string_view name) -> std::optional<std::string> {
    if (name == "PG_BENCH_PASSWORD") return std::string(postgres_test::kPassword);
    return std::nullopt;
  });
  const auto context = connect::ConnectorContext::standalone(config);
  sink.initialize(context);
  const auto started = Clock::now();
  for (std::size_t start = 0; start < records.size(); start += options.batch_size) {
    const auto count = std::min(options.batch_size, records.size() - start);
    const auto result = sink.process_batch(std::span(records).subspan(start, count));
    if (!result.all_succeeded()) throw std::runtime_error("sink-in-process: a batch failed");
  }
  const double seconds = static_cast<double>(millis_since(started)) / 1000.0;
  sink.shutdown();
  return {"sink-in-process", static_cast<std::size_t>(server.count(table)), seconds};
}

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
               postgres_section(server, method, topic, table);
  const auto config = dir / (method + ".toml");
  write_text_file(config, toml.render());
  ConnectorProcess connector("bench-" + method, options.connector, config, dir);
  connector.set_environment({std::string("PG_BENCH_PASSWORD=") + postgres_test::kPassword});
  // Create the subscription, then stop: the messages published next wait as a backlog, so the
  // figure is the sink's rate, not the producer's.
  connector.start();
  connector.signal(SIGTERM);
  if (!connector.wait(30s).clean()) throw std::runtime_error("connector did not stop cleanly");

  publish_backlog(broker, topic, options.messages);

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
  app.add_option("--only", options.only, "run only these paths")
      ->check(CLI::IsMember(
          {"psql-copy", "sink-in-process", "client-drain", "connector-copy", "connector-insert"}));
  CLI11_PARSE(app, argc, argv);
  try {
    ScratchDirectory dir("postgres-bench");
    BrokerProcess broker(options.broker, dir.path(),
                         {"--max-unacked", std::to_string(4 * options.batch_size), "--topic",
                          "/default/bench-copy", "--topic", "/default/bench-insert", "--topic",
                          "/default/bench-client", "--log-level", "warn"});
    broker.start();
    postgres_test::PostgresOptions server_options;
    server_options.fsync = true;
    postgres_test::PostgresServer server(dir.path() / "pg", server_options);
    server.start();
    if (std::getenv("PG_BENCH_LOG_STATEMENTS")) {
      server.query("ALTER SYSTEM SET log_min_duration_statement = 0");
      server.query("SELECT pg_reload_conf()");
    }
    std::printf("messages=%zu batch_size=%zu (PostgreSQL 15, fsync on, one server)\n",
                options.messages, options.batch_size);
    std::vector<Figures> figures;
    const auto wanted = [&](const std::string& path) {
      return options.only.empty() ||
             std::find(options.only.begin(), options.only.end(), path) != options.only.end();
    };
    if (wanted("psql-copy"))
      figures.push_back(psql_copy(server, dir.path(), "readings_raw1", options.messages));
    if (wanted("sink-in-process")) figures.push_back(sink_in_process(options, server));
    if (wanted("client-drain")) figures.push_back(client_drain(options, broker));
    if (wanted("connector-copy"))
      figures.push_back(through_connector(options, broker, server, dir.path(), "copy"));
    if (wanted("connector-insert"))
      figures.push_back(through_connector(options, broker, server, dir.path(), "insert"));
    if (wanted("psql-copy"))
      figures.push_back(psql_copy(server, dir.path(), "readings_raw2", options.messages));
    const auto rate_of = [&](const std::string& path) {
      double best = 0;
      for (const auto& f : figures)
        if (f.path == path) best = std::max(best, f.rate());
      return best;
    };
    const double limit = rate_of("psql-copy");
    for (const auto& f : figures)
      print(f, limit);
    // The end-to-end path cannot beat the slower of its two halves.
    const double ceiling = std::min(rate_of("sink-in-process"), rate_of("client-drain"));
    if (ceiling > 0 && rate_of("connector-copy") > 0)
      std::printf("connector-copy of min(sink-in-process, client-drain)=%.2f\n",
                  rate_of("connector-copy") / ceiling);
  } catch (const std::exception& error) {
    std::fprintf(stderr, "danube-postgres-bench: %s\n", error.what());
    return 1;
  }
  return 0;
}
