// The seed's 0.5 API surface: routes and their conversions, record contexts,
// SinkRecord::as_type<T>(), SourceRecord::from_avro, ConnectorConfig::load() and the
// VERSION / NAME constants.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>

#include "danube/connect/connect.hpp"
#include "test_support.hpp"

namespace dc = danube::connect;
using danube::connect::test::TempDir;

namespace orders {

struct Order {
  int id = 0;
  std::string item;
  double price = 0;
};
NLOHMANN_DEFINE_TYPE_NON_INTRUSIVE(Order, id, item, price)

}  // namespace orders

BOOST_AUTO_TEST_SUITE(routes)

BOOST_AUTO_TEST_CASE(consumer_config_round_trips_through_a_sink_route) {
  dc::ConsumerConfig config{
      "/default/orders",           "c1",    "orders-sub", danube::SubscriptionType::key_shared,
      std::string("orders-value"), {"eu-*"}};
  const dc::SinkRoute route = config.route();
  BOOST_TEST(route.topic == "/default/orders");
  BOOST_TEST(route.subscription.consumer_name == "c1");
  BOOST_TEST(route.subscription.subscription == "orders-sub");
  BOOST_TEST((route.subscription.subscription_type == danube::SubscriptionType::key_shared));
  BOOST_TEST(route.subscription.key_filters == std::vector<std::string>{"eu-*"});
  BOOST_TEST(route.schema.expected_subject.value() == "orders-value");
  BOOST_TEST(!route.schema.output_schema.has_value());
  BOOST_TEST((dc::ConsumerConfig::from_route(route) == config));
}

BOOST_AUTO_TEST_CASE(producer_config_round_trips_through_a_source_route) {
  dc::ProducerConfig config("/default/events", 4, true);
  dc::SchemaConfig schema;
  schema.subject = "events-value";
  schema.schema_type = danube::SchemaType::avro;
  schema.version_strategy = danube::VersionStrategy::pinned(2);
  config.schema = schema;
  const dc::SourceRoute route = config.route();
  BOOST_TEST(route.topic == "/default/events");
  BOOST_TEST(route.dispatch.partitions == 4u);
  BOOST_TEST(route.dispatch.reliable_dispatch);
  BOOST_TEST((route.schema.output_schema == schema));
  BOOST_TEST(!route.schema.expected_subject.has_value());
  BOOST_TEST((dc::ProducerConfig::from_route(route) == config));
}

BOOST_AUTO_TEST_CASE(routes_default_to_the_one_default_subscription_type) {
  const dc::SinkRoute route("/default/t", dc::RouteSubscriptionPolicy("c", "s"),
                            dc::RouteSchemaPolicy::none());
  BOOST_TEST((route.subscription.subscription_type == danube::kDefaultSubscriptionType));
  BOOST_TEST((dc::ConsumerConfig{}.subscription_type == danube::kDefaultSubscriptionType));
  BOOST_TEST((danube::kDefaultSubscriptionType == danube::SubscriptionType::exclusive));
  BOOST_TEST((dc::ConsumerConfig::from_route(route).subscription_type ==
              danube::SubscriptionType::exclusive));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(contexts)

BOOST_AUTO_TEST_CASE(sink_record_context_shows_routing_and_origin) {
  danube::SchemaInfo schema{7, 3, "orders-value", danube::SchemaType::json_schema};
  const auto record = dc::SinkRecordBuilder()
                          .partition_topic("/default/orders-part-2")
                          .payload(R"({"id":1})")
                          .routing_key("eu-1")
                          .attribute("origin", "test")
                          .publish_time_us(1'700'000'000'000'000)
                          .producer_name("p1")
                          .schema(schema)
                          .build();
  const dc::RoutingContext routing = record.routing_context();
  BOOST_TEST(routing.topic() == "/default/orders");
  BOOST_TEST(routing.key().value() == "eu-1");
  BOOST_TEST(routing.partition().value() == 2u);
  BOOST_TEST(routing.attributes().at("origin") == "test");

  const dc::RecordContext context = record.context();
  BOOST_TEST(context.topic() == "/default/orders");
  BOOST_TEST(context.publish_time().value() == 1'700'000'000'000'000u);
  BOOST_TEST(context.producer_name().value() == "p1");
  BOOST_REQUIRE(context.schema() != nullptr);
  BOOST_TEST((*context.schema() == schema));
}

BOOST_AUTO_TEST_CASE(source_record_context_has_routing_only) {
  const auto record =
      dc::SourceRecord::from_string("/default/out", "x").with_key("k").with_attribute("a", "b");
  const auto context = record.context();
  BOOST_TEST(context.topic() == "/default/out");
  BOOST_TEST(context.key().value() == "k");
  BOOST_TEST(!context.partition().has_value());
  BOOST_TEST(context.attributes().at("a") == "b");
  BOOST_TEST(!context.publish_time().has_value());
  BOOST_TEST(!context.producer_name().has_value());
  BOOST_TEST(context.schema() == nullptr);
  BOOST_TEST(!dc::SourceRecord::from_string("/t", "y").routing_context().key().has_value());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(conversions)

BOOST_AUTO_TEST_CASE(as_type_converts_through_nlohmann) {
  const auto record = dc::SinkRecordBuilder()
                          .topic("/default/orders")
                          .payload(R"({"id":7,"item":"tea","price":2.5})")
                          .build();
  const auto order = record.as_type<orders::Order>();
  BOOST_TEST(order.id == 7);
  BOOST_TEST(order.item == "tea");
  BOOST_TEST(order.price == 2.5);
  using Fields = std::map<std::string, nlohmann::json>;
  BOOST_TEST(record.as_type<Fields>().size() == 3u);
}

BOOST_AUTO_TEST_CASE(as_type_reports_a_mismatch_as_invalid_data) {
  const auto wrong = dc::SinkRecordBuilder().topic("/t").payload(R"({"id":"seven"})").build();
  try {
    (void)wrong.as_type<orders::Order>();
    BOOST_FAIL("expected invalid_data");
  } catch (const dc::ConnectorError& error) {
    BOOST_TEST(error.is_invalid_data());
    BOOST_TEST(std::string(error.what()).find("failed to deserialize to target type") !=
               std::string::npos);
  }
  const auto not_json = dc::SinkRecordBuilder().topic("/t").payload("not json").build();
  BOOST_CHECK_THROW((void)not_json.as_type<orders::Order>(), dc::ConnectorError);
}

BOOST_AUTO_TEST_CASE(from_avro_makes_a_json_record_for_the_topic_schema) {
  const auto record = dc::SourceRecord::from_avro("/default/orders", {{"id", 1}, {"item", "tea"}});
  BOOST_TEST((record.content_kind() == dc::ContentKind::json));
  BOOST_REQUIRE(record.json_value() != nullptr);
  BOOST_TEST((*record.json_value())["item"] == "tea");
  BOOST_TEST(record.topic() == "/default/orders");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loading)

struct PathVariable {
  explicit PathVariable(const std::string& path) {
    ::setenv("CONNECTOR_CONFIG_PATH", path.c_str(), 1);
  }
  ~PathVariable() { ::unsetenv("CONNECTOR_CONFIG_PATH"); }
};

BOOST_AUTO_TEST_CASE(load_reads_the_file_named_by_connector_config_path) {
  TempDir dir;
  const auto path = dir.path() / "connector.toml";
  std::ofstream(path) << "danube_service_url = \"http://127.0.0.1:6650\"\n"
                         "connector_name = \"seed-load\"\n"
                         "[processing]\nbatch_size = 7\n"
                         "[mqtt]\nbroker_host = \"localhost\"\n";
  PathVariable variable(path.string());
  const auto config = dc::ConnectorConfig::load({"mqtt"});
  BOOST_TEST(config.connector_name == "seed-load");
  BOOST_TEST(config.processing.batch_size == 7u);
  BOOST_TEST(config.section("mqtt").require_string("broker_host") == "localhost");
  // The connector's own table must be declared: otherwise it is an unknown key.
  BOOST_CHECK_THROW(dc::ConnectorConfig::load(), dc::ConfigError);
}

BOOST_AUTO_TEST_CASE(load_without_the_path_variable_names_it) {
  ::unsetenv("CONNECTOR_CONFIG_PATH");
  try {
    (void)dc::ConnectorConfig::load();
    BOOST_FAIL("expected a ConfigError");
  } catch (const dc::ConfigError& error) {
    BOOST_TEST(std::string(error.what()).find("CONNECTOR_CONFIG_PATH") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(version_and_name_constants) {
  BOOST_TEST(dc::NAME == "danube-connect");
  BOOST_TEST(dc::VERSION == std::to_string(dc::VERSION_MAJOR) + "." +
                                std::to_string(dc::VERSION_MINOR) + "." +
                                std::to_string(dc::VERSION_PATCH));
}

BOOST_AUTO_TEST_SUITE_END()
