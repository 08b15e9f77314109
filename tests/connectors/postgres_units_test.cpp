// danube-sink-postgres's pieces without a database: value conversion, COPY encoding, the
// connection string rules, the SQL it builds and the configuration it accepts.
#include <boost/test/unit_test.hpp>

#include "column_type.hpp"
#include "connection_string.hpp"
#include "copy_stream.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/sink_record.hpp"
#include "postgres_settings.hpp"
#include "row_mapper.hpp"
#include "sql_builder.hpp"

using namespace danube;
using namespace danube::sink_postgres;
using nlohmann::json;

namespace {

std::optional<std::string> no_environment(std::string_view) {
  return std::nullopt;
}

connect::ConnectorConfig config_with(const std::string& toml) {
  connect::ConnectorConfig config;
  config.connector_name = "pg-unit";
  config.custom_sections = connect::ConfigSection::parse(toml, "unit.toml");
  return config;
}

std::string config_error(const std::string& toml) {
  try {
    read_postgres_settings(config_with(toml), no_environment);
  } catch (const connect::ConfigError& error) {
    return error.what();
  }
  return "no error";
}

const std::string kMinimalRoute =
    "[[postgres.routes]]\nfrom = \"/default/o\"\nto = \"orders\"\n"
    "[[postgres.routes.columns]]\ncolumn = \"id\"\ntype = \"bigint\"\n";

}  // namespace

BOOST_AUTO_TEST_CASE(json_values_become_postgres_text_or_invalid_data) {
  BOOST_TEST(*to_sql_text(json(42), ColumnType::bigint, "f") == "42");
  BOOST_TEST(*to_sql_text(json("9007199254740993"), ColumnType::bigint, "f") == "9007199254740993");
  BOOST_TEST(*to_sql_text(json(3.0), ColumnType::integer, "f") == "3");
  BOOST_TEST(!to_sql_text(json(nullptr), ColumnType::integer, "f").has_value());
  BOOST_TEST(*to_sql_text(json(0.1), ColumnType::double_precision, "f") == "0.1");
  BOOST_TEST(*to_sql_text(json(true), ColumnType::boolean, "f") == "true");
  BOOST_TEST(*to_sql_text(json({{"a", 1}}), ColumnType::jsonb, "f") == R"({"a":1})");
  BOOST_TEST(*to_sql_text(json(17), ColumnType::text, "f") == "17");
  BOOST_TEST(*to_sql_text(json(1700000000123), ColumnType::timestamptz, "f") ==
             "2023-11-14 22:13:20.123000+00");
  const auto rejects = [](const json& value, ColumnType type) {
    try {
      to_sql_text(value, type, "field /x (column x)");
    } catch (const connect::ConnectorError& error) {
      return error.is_invalid_data() &&
             std::string(error.what()).find("field /x") != std::string::npos;
    }
    return false;
  };
  BOOST_TEST(rejects(json("cheap"), ColumnType::double_precision));
  BOOST_TEST(rejects(json(70000), ColumnType::smallint));
  BOOST_TEST(rejects(json(2.5), ColumnType::bigint));
  BOOST_TEST(rejects(json("yes"), ColumnType::boolean));
  BOOST_TEST(rejects(json(std::string("a\0b", 3)), ColumnType::text));
  BOOST_TEST(rejects(json::array(), ColumnType::uuid));
  BOOST_TEST((parse_column_type("double precision") == ColumnType::double_precision));
  BOOST_TEST((parse_column_type("int8") == ColumnType::bigint));
  BOOST_TEST(!parse_column_type("money").has_value());
}

BOOST_AUTO_TEST_CASE(copy_lines_escape_separators_and_mark_null) {
  std::string line;
  append_copy_line({std::string("a\tb"), std::nullopt, std::string("back\\slash\nnew\rline")},
                   line);
  BOOST_TEST(line == "a\\tb\t\\N\tback\\\\slash\\nnew\\rline");
}

BOOST_AUTO_TEST_CASE(connection_strings_are_checked_and_never_carry_a_password) {
  BOOST_TEST(!ConnectionString::problem("host=db port=5432 dbname=app sslmode=verify-full"));
  BOOST_TEST(!ConnectionString::problem("postgresql://app@db:5432/app?sslmode=require"));
  BOOST_TEST(ConnectionString::problem("host=db password=x")->find("password") !=
             std::string::npos);
  BOOST_TEST(ConnectionString::problem("postgresql://app:secret@db/app")->find("password") !=
             std::string::npos);
  BOOST_TEST(ConnectionString::problem("hots=db").has_value());
  const ConnectionString connection("postgresql://app@db:6543/shop?sslmode=require", 7);
  BOOST_TEST(connection.description() == "user=app dbname=shop host=db port=6543 sslmode=require");
  const auto conninfo = connection.with_password(std::string("it's"));
  BOOST_TEST(conninfo.find("password='it\\'s'") != std::string::npos);
  BOOST_TEST(conninfo.find("connect_timeout=7") != std::string::npos);
  BOOST_TEST(conninfo.find("client_encoding='UTF8'") != std::string::npos);
  BOOST_TEST(connection.description().find("it's") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(settings_read_routes_columns_and_metadata) {
  const auto settings = read_postgres_settings(
      config_with("[postgres]\nconnection = \"host=db\"\nschema = \"shop\"\n"
                  "insert_method = \"insert\"\n" +
                  kMinimalRoute +
                  "[[postgres.routes]]\nfrom = \"/default/p\"\nto = \"stock.prices\"\n"
                  "mode = \"upsert\"\nupsert_key = [\"sku\"]\npayload_column = \"\"\n"
                  "subscription_type = \"Shared\"\n"
                  "metadata = { topic = \"src\", routing_key = \"\" }\n"
                  "columns = [{ column = \"sku\", json_pointer = \"/item/sku\" }]\n"),
      no_environment);
  BOOST_TEST_REQUIRE(settings.routes.size() == 2u);
  BOOST_TEST((settings.insert_method == InsertMethod::insert));
  const auto& orders = settings.routes[0];
  BOOST_TEST(orders.display_table() == "shop.orders");
  BOOST_TEST(orders.fields[0].json_pointer == "/id");
  BOOST_TEST(orders.consumer.subscription == "pg-unit");
  BOOST_TEST((orders.conflict_key() ==
              std::vector<std::string>{"danube_topic", "danube_partition", "danube_offset"}));
  const auto& prices = settings.routes[1];
  BOOST_TEST(prices.display_table() == "stock.prices");
  BOOST_TEST(!prices.payload_column.has_value());
  BOOST_TEST(*prices.metadata_column(MetadataField::topic) == "src");
  BOOST_TEST(!prices.metadata_column(MetadataField::routing_key).has_value());
  BOOST_TEST((prices.conflict_key() == std::vector<std::string>{"sku"}));
  BOOST_TEST((prices.consumer.subscription_type == connect::SubscriptionType::shared));

  const RowMapper mapper(prices);
  const auto row = mapper.map(connect::SinkRecordBuilder()
                                  .topic("/default/p-part-1")
                                  .partition_topic("/default/p-part-1")
                                  .offset(41)
                                  .payload(R"({"item": {"sku": "A-1"}})")
                                  .build());
  BOOST_TEST(*row[0] == "A-1");
  BOOST_TEST(*row[2] == "1");   // partition
  BOOST_TEST(*row[3] == "41");  // offset
  BOOST_TEST(conflict_clause(prices, mapper.columns()).find("DO UPDATE SET") != std::string::npos);
  BOOST_TEST(insert_values_prefix(prices, mapper.columns()) ==
             "INSERT INTO \"stock\".\"prices\" (\"sku\", \"src\", \"danube_partition\", "
             "\"danube_offset\", \"danube_publish_time\", \"danube_attributes\") VALUES ");
}

BOOST_AUTO_TEST_CASE(settings_errors_name_the_key) {
  const std::string head = "[postgres]\nconnection = \"host=db\"\n";
  BOOST_TEST(config_error(head + "pasword = 1\n" + kMinimalRoute).find("pasword") !=
             std::string::npos);
  BOOST_TEST(config_error(head + "password_env = \"NOPE\"\n" + kMinimalRoute).find("NOPE") !=
             std::string::npos);
  BOOST_TEST(config_error(head).find("routes") != std::string::npos);
  BOOST_TEST(config_error(head + "[[postgres.routes]]\nfrom = \"/default/o\"\nto = \"o\"\n"
                                 "metadata = { offset = \"\" }\n")
                 .find("needs the offset column") != std::string::npos);
  BOOST_TEST(config_error(head + kMinimalRoute + kMinimalRoute).find("already has a route") !=
             std::string::npos);
  BOOST_TEST(config_error(head + kMinimalRoute + "[[postgres.routes.columns]]\ncolumn = \"id\"\n")
                 .find("written twice") != std::string::npos);
  BOOST_TEST(
      config_error(head + "insert_method = \"bulk\"\n" + kMinimalRoute).find("insert_method") !=
      std::string::npos);
}
