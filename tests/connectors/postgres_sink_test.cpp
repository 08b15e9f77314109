// danube-sink-postgres as a process between the embedded broker and a real PostgreSQL server
// (both processes started here): mapping and types, upsert, table creation, dead letters, and
// the configuration errors that stop it at start.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "danube/runtime/run.hpp"
#include "postgres_rig.hpp"
#include "promtool_check.hpp"

using namespace danube;
using namespace danube::chaos;
using namespace danube::postgres_test;
using namespace std::chrono_literals;

namespace {

std::string route(const std::string& from, const std::string& to, const std::string& more = "") {
  return "[[postgres.routes]]\nfrom = \"" + from + "\"\nto = \"" + to + "\"\n" + more;
}

std::string column(const std::string& name, const std::string& pointer, const std::string& type,
                   const std::string& more = "") {
  return "[[postgres.routes.columns]]\ncolumn = \"" + name + "\"\njson_pointer = \"" + pointer +
         "\"\ntype = \"" + type + "\"\n" + more;
}

bool wait_for_rows(const Rig& rig, const std::string& table, std::int64_t rows,
                   std::chrono::milliseconds timeout = 30s) {
  return wait_until([&] { return rig.postgres.count(table) >= rows; }, timeout);
}

// Starts the sink once, so that its subscription exists, and stops it: what is published next
// waits in the broker and reaches the sink's next start as one backlog, in one batch.
void create_subscription(ConnectorProcess& connector) {
  connector.start();
  connector.signal(SIGTERM);
  BOOST_TEST_REQUIRE(connector.wait(20s).clean(), connector.log().tail());
}

}  // namespace

BOOST_AUTO_TEST_CASE(fields_types_payload_and_metadata_land_in_their_columns) {
  Rig rig("pg-mapping", {"/default/pg-orders", "/default/pg-mapping-dlq"});
  rig.postgres.query(
      "CREATE TABLE orders (id bigint, customer text, price double precision, paid boolean, "
      "qty integer, placed timestamptz, seen timestamptz, tags jsonb, payload jsonb, "
      "danube_topic text, danube_partition integer, danube_offset bigint, "
      "danube_publish_time timestamptz, danube_routing_key text, danube_attributes jsonb, "
      "producer text, UNIQUE (danube_topic, danube_partition, danube_offset))");
  auto dead_letters = rig.subscribe("/default/pg-mapping-dlq");
  auto connector = rig.connector(
      "pg-mapping",
      rig.postgres_table() +
          route("/default/pg-orders", "orders", "metadata = { producer = \"producer\" }\n") +
          column("id", "/id", "bigint", "nullable = false\n") +
          column("customer", "/customer/name", "text") + column("price", "/price", "double") +
          column("paid", "/paid", "boolean") + column("qty", "/stock/qty", "integer") +
          column("placed", "/placed", "timestamptz") + column("seen", "/seen_ms", "timestamptz") +
          column("tags", "/tags", "jsonb"));
  connector->start();

  auto producer = rig.producer("/default/pg-orders");
  send_all(*producer,
           {R"({"id": 1, "customer": {"name": "Ada"}, "price": 9.5, "paid": true,
                "stock": {"qty": 3}, "placed": "2026-01-02T03:04:05Z", "seen_ms": 1700000000123,
                "tags": ["a", "b"]})",
            // 64-bit integers as strings (protobuf's JSON mapping); absent fields are NULL.
            R"({"id": "9007199254740993", "price": 1})"},
           {{"source", "test"}}, std::string("customer-7"));
  // Cannot be mapped: not JSON, a string where a number belongs, the required id missing.
  send_all(*producer, {"not json at all", R"({"id": 3, "price": "cheap"})", R"({"price": 2})"});

  BOOST_TEST_REQUIRE(wait_for_rows(rig, "orders", 2), connector->log().tail());
  const auto first = rig.postgres.value(
      "SELECT id, customer, price, paid, qty, placed AT TIME ZONE 'UTC', "
      "seen AT TIME ZONE 'UTC', tags::text, payload->'customer'->>'name', danube_topic, "
      "danube_partition, danube_routing_key, danube_attributes::text, producer "
      "FROM orders WHERE id = 1");
  BOOST_TEST(first ==
             "1|Ada|9.5|t|3|2026-01-02 03:04:05|2023-11-14 22:13:20.123|[\"a\", \"b\"]|Ada|"
             "/default/pg-orders|0|customer-7|{\"source\": \"test\"}|test-producer-1");
  const auto second = rig.postgres.value(
      "SELECT id, customer, price, paid, qty, placed, tags FROM orders WHERE id <> 1");
  BOOST_TEST(second == "9007199254740993|<null>|1|<null>|<null>|<null>|<null>");
  BOOST_TEST(rig.postgres.value("SELECT count(DISTINCT danube_offset) FROM orders") == "2");
  BOOST_TEST(rig.postgres.value("SELECT bool_and(danube_publish_time > now() - interval '1 "
                                "minute') FROM orders") == "t");

  auto rejected = receive(*dead_letters, 3, 30s);
  BOOST_TEST_REQUIRE(rejected.size() == 3u, connector->log().tail());
  std::map<std::string, std::string> reasons;
  for (const auto& message : rejected) {
    BOOST_TEST(attribute(message, "dlq.error_kind") == "invalid_data");
    reasons[message.payload] = attribute(message, "dlq.error_message");
  }
  BOOST_TEST(reasons["not json at all"].find("JSON") != std::string::npos,
             reasons["not json at all"]);
  BOOST_TEST(reasons[R"({"id": 3, "price": "cheap"})"].find("/price") != std::string::npos,
             reasons[R"({"id": 3, "price": "cheap"})"]);
  BOOST_TEST(reasons[R"({"price": 2})"].find("/id is missing") != std::string::npos,
             reasons[R"({"price": 2})"]);
  BOOST_TEST(rig.postgres.count("orders") == 2);
  // The password stays out of the log.
  BOOST_TEST(connector->log().lines_with(kPassword).empty());
  connector->signal(SIGTERM);
  BOOST_TEST(connector->wait(20s).clean());
}

BOOST_AUTO_TEST_CASE(upsert_creates_the_table_and_keeps_the_last_value_per_key) {
  Rig rig("pg-upsert", {"/default/pg-prices"});
  auto connector = rig.connector(
      "pg-upsert", rig.postgres_table() +
                       route("/default/pg-prices", "catalog.prices",
                             "mode = \"upsert\"\nupsert_key = [\"sku\"]\ncreate_table = true\n"
                             "payload_column = \"\"\n"
                             "metadata = { publish_time = \"\", routing_key = \"\", "
                             "attributes = \"\" }\n") +
                       column("sku", "/sku", "text") + column("price", "/price", "numeric"));
  rig.postgres.query("CREATE SCHEMA catalog");
  create_subscription(*connector);
  BOOST_TEST(!connector->log().lines_with("event=postgres_table_created").empty());
  auto producer = rig.producer("/default/pg-prices");
  // Published while the sink is stopped, so that one batch holds the key A three times.
  send_all(*producer, {R"({"sku": "A", "price": 1})", R"({"sku": "B", "price": 10})",
                       R"({"sku": "A", "price": 2})", R"({"sku": "A", "price": 3})"});
  connector->start();
  BOOST_TEST_REQUIRE(
      wait_until(
          [&] {
            return rig.postgres.count("catalog.prices") == 2 &&
                   rig.postgres.value("SELECT price FROM catalog.prices WHERE sku = 'A'") == "3";
          },
          30s),
      connector->log().tail());
  // The created table: the key is the primary key, metadata columns typed.
  BOOST_TEST(rig.postgres.value("SELECT string_agg(a.attname, ',') FROM pg_index i JOIN "
                                "pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = "
                                "ANY(i.indkey) WHERE i.indrelid = 'catalog.prices'::regclass AND "
                                "i.indisprimary") == "sku");
  BOOST_TEST(rig.postgres.value("SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE "
                                "attrelid = 'catalog.prices'::regclass AND attname = "
                                "'danube_offset'") == "bigint");

  send_all(*producer, {R"({"sku": "B", "price": 11.25})", R"({"sku": "C", "price": 7})"});
  BOOST_TEST_REQUIRE(
      wait_until(
          [&] {
            return rig.postgres.count("catalog.prices") == 3 &&
                   rig.postgres.value("SELECT price FROM catalog.prices WHERE sku = 'B'") ==
                       "11.25";
          },
          30s),
      connector->log().tail());
  BOOST_TEST(rig.postgres.value("SELECT string_agg(sku || '=' || price, ',' ORDER BY sku) FROM "
                                "catalog.prices") == "A=3,B=11.25,C=7");
}

BOOST_AUTO_TEST_CASE(constraint_violations_are_dead_lettered_and_the_rest_of_the_batch_commits) {
  Rig rig("pg-constraint", {"/default/pg-payments-copy", "/default/pg-constraint-copy-dlq",
                            "/default/pg-payments-insert", "/default/pg-constraint-insert-dlq"});
  // Both ways rows travel: COPY (straight into the table, then through the staging table once
  // it fails) and multi-row INSERT.
  for (const std::string method : {"copy", "insert"}) {
    BOOST_TEST_CONTEXT("insert_method = " << method) {
      const std::string table = "payments_" + method;
      rig.postgres.query("CREATE TABLE " + table +
                         " (n bigint UNIQUE, amount numeric CHECK (amount >= 0), payload jsonb, "
                         "danube_topic text, danube_partition integer, danube_offset bigint, "
                         "danube_publish_time timestamptz, danube_routing_key text, "
                         "danube_attributes jsonb, "
                         "UNIQUE (danube_topic, danube_partition, danube_offset))");
      auto dead_letters = rig.subscribe("/default/pg-constraint-" + method + "-dlq");
      auto producer = rig.producer("/default/pg-payments-" + method);
      std::vector<std::string> payloads;
      for (int n = 0; n < 40; ++n) {
        const int amount = (n == 7 || n == 29) ? -5 : n;
        payloads.push_back(R"({"n": )" + std::to_string(n) + R"(, "amount": )" +
                           std::to_string(amount) + "}");
      }
      payloads.push_back(R"({"n": 15, "amount": 1})");  // breaks UNIQUE (n): written already
      auto connector =
          rig.connector("pg-constraint-" + method,
                        rig.postgres_table("insert_method = \"" + method + "\"\n") +
                            route("/default/pg-payments-" + method, table) +
                            column("n", "/n", "bigint") + column("amount", "/amount", "numeric"));
      // One batch: everything is published while the sink is stopped.
      create_subscription(*connector);
      send_all(*producer, payloads);
      connector->start();
      BOOST_TEST_REQUIRE(wait_for_rows(rig, table, 38), connector->log().tail());
      auto rejected = receive(*dead_letters, 3, 30s);
      BOOST_TEST_REQUIRE(rejected.size() == 3u, connector->log().tail());
      std::map<std::string, std::string> reasons;
      for (const auto& message : rejected) {
        reasons[message.payload] = attribute(message, "dlq.error_message");
        BOOST_TEST(attribute(message, "dlq.error_kind") == "invalid_data");
      }
      BOOST_TEST(reasons[payloads[7]].find("violates check constraint") != std::string::npos,
                 reasons[payloads[7]]);
      BOOST_TEST(reasons[payloads[29]].find("violates check constraint") != std::string::npos,
                 reasons[payloads[29]]);
      BOOST_TEST(reasons[payloads[40]].find("duplicate key value violates unique constraint") !=
                     std::string::npos,
                 reasons[payloads[40]]);
      BOOST_TEST(rig.postgres.value("SELECT count(*) FROM " + table + " WHERE n IN (7, 29)") ==
                 "0");
      BOOST_TEST(rig.postgres.value("SELECT count(DISTINCT n) || '/' || count(*) FROM " + table) ==
                 "38/38");
      BOOST_TEST(rig.postgres.value("SELECT amount FROM " + table + " WHERE n = 15") == "15");
      // Found by halving, not by writing row after row.
      const auto steps = scrape_metric(connector->http_port(), "postgres_bisection_steps_total");
      // (How many depends on how the runtime cut the backlog into batches; a batch holding one
      // bad row alone needs none.)
      print_figures("postgres_constraint_" + method,
                    {{"bisection_steps", std::to_string(steps.value_or(-1))}});
      BOOST_TEST(steps.value_or(100) < 25.0);
      BOOST_TEST(!connector->log().lines_with("event=postgres_row_rejected").empty());
      const auto metrics = http_get(connector->http_port(), "/metrics");
      BOOST_TEST_REQUIRE(metrics.has_value());
      danube::test::check_with_promtool(metrics->body, "danube-sink-postgres");
      connector->signal(SIGTERM);
      BOOST_TEST(connector->wait(20s).clean());
    }
  }
}

BOOST_AUTO_TEST_CASE(a_table_without_a_configured_column_stops_the_start_with_exit_2) {
  Rig rig("pg-missing", {"/default/pg-events"});
  rig.postgres.query(
      "CREATE TABLE events (kind text, payload jsonb, danube_topic text, danube_partition "
      "integer, danube_offset bigint, danube_publish_time timestamptz, danube_routing_key text, "
      "danube_attributes jsonb, UNIQUE (danube_topic, danube_partition, danube_offset))");
  rig.postgres.query(
      "CREATE TABLE no_key (kind text, payload jsonb, danube_topic text, "
      "danube_partition integer, danube_offset bigint)");
  struct Case {
    std::string route;
    std::vector<std::string> named;
  };
  const std::vector<Case> cases = {
      {route("/default/pg-events", "events") + column("kind", "/kind", "text") +
           column("severity", "/severity", "integer"),
       {"public.events", "\"severity\"", "columns]][1] column"}},
      {route("/default/pg-events", "nowhere") + column("kind", "/kind", "text"),
       {"public.nowhere", "does not exist", "create_table"}},
      {route("/default/pg-events", "no_key",
             "metadata = { publish_time = \"\", routing_key = "
             "\"\", attributes = \"\" }\n") +
           column("kind", "/kind", "text"),
       {"public.no_key", "no unique index", "CREATE UNIQUE INDEX"}},
  };
  int index = 0;
  for (const auto& bad : cases) {
    auto connector = rig.connector("pg-missing-" + std::to_string(++index),
                                   rig.postgres_table() + bad.route, /*restart_on_fatal=*/false);
    connector->start(/*wait_running=*/false);
    const auto status = connector->wait(30s);
    BOOST_TEST(status.code == runtime::kExitConfigError, status.describe());
    for (const auto& text : bad.named) {
      BOOST_TEST(!connector->log().lines_with(text).empty(), text << " not named:\n"
                                                                  << connector->log().tail());
    }
  }
  // Nothing was created on the way.
  BOOST_TEST(rig.postgres.value("SELECT count(*) FROM pg_tables WHERE tablename = 'nowhere'") ==
             "0");
}

BOOST_AUTO_TEST_CASE(bad_configuration_exits_2_and_names_the_key) {
  Rig rig("pg-badconfig", {});
  struct Case {
    std::string tables;
    std::vector<std::string> environment;
    std::string named;
  };
  const std::string good_route = route("/default/x", "x") + column("a", "/a", "text");
  const std::string connection = rig.postgres.tcp_connection();
  const std::vector<Case> cases = {
      {rig.postgres_table("hostname = \"db\"\n") + good_route, {}, "hostname"},
      {rig.postgres_table() + route("/default/x", "x") + column("a", "/a", "texty"), {}, "type"},
      {rig.postgres_table() + route("/default/x", "x", "mode = \"merge\"\n") +
           column("a", "/a", "text"),
       {},
       "mode"},
      {rig.postgres_table() + route("/default/x", "x", "mode = \"upsert\"\n") +
           column("a", "/a", "text"),
       {},
       "upsert_key"},
      {"[postgres]\nconnection = \"" + connection + " password=hunter2\"\n" + good_route,
       {},
       "connection"},
      {"[postgres]\nconnection = \"" + connection + "\"\npassword_env = \"NOT_SET_ANYWHERE\"\n" +
           good_route,
       {},
       "NOT_SET_ANYWHERE"},
      {rig.postgres_table() + route("/default/x", "x") + column("a", "a", "text"),
       {},
       "json_pointer"},
  };
  int index = 0;
  for (const auto& bad : cases) {
    auto connector = rig.connector("pg-bad-" + std::to_string(++index), bad.tables, false);
    connector->start(/*wait_running=*/false);
    const auto status = connector->wait(30s);
    BOOST_TEST(status.code == runtime::kExitConfigError, bad.named << ": " << status.describe());
    BOOST_TEST(!connector->log().lines_with(bad.named).empty(), bad.named
                                                                    << " not named:\n"
                                                                    << connector->log().tail());
    BOOST_TEST(connector->log().lines_with("hunter2").empty());
  }
}
