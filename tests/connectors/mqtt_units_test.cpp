// danube-source-mqtt's pure parts: MQTT topic filters, the [mqtt] table read the way the Rust
// connector reads it (and our additions), and MQTT messages turned into records.
#include <boost/test/unit_test.hpp>
#include <map>

#include "danube/connect/config_error.hpp"
#include "danube/connect/config_loader.hpp"
#include "mqtt_record.hpp"
#include "mqtt_settings.hpp"
#include "stored_watermark.hpp"
#include "topic_filter.hpp"

using namespace danube::source_mqtt;
using danube::connect::ConfigError;
using danube::connect::ConfigLoader;
using danube::connect::ConnectorConfig;
using danube::connect::Environment;

namespace {

ConnectorConfig load(const std::string& toml) {
  ConfigLoader loader;
  loader.environment(Environment::from_map({})).allow_section("mqtt");
  return loader.load_string(toml, "/etc/connector.toml");
}

EnvironmentLookup environment_of(std::map<std::string, std::string> variables) {
  return [variables = std::move(variables)](std::string_view name) -> std::optional<std::string> {
    const auto found = variables.find(std::string(name));
    if (found == variables.end()) return std::nullopt;
    return found->second;
  };
}

MqttSettings settings_of(const std::string& toml, std::map<std::string, std::string> env = {}) {
  return read_mqtt_settings(load(toml), environment_of(std::move(env)));
}

std::string error_of(const std::string& toml, std::map<std::string, std::string> env = {}) {
  try {
    settings_of(toml, std::move(env));
  } catch (const ConfigError& error) {
    return error.what();
  }
  BOOST_FAIL("expected a ConfigError for:\n" + toml);
  return {};
}

// A configuration in the Rust connector's layout: every core table its samples use, a
// [[schemas]] entry, and routes with each QoS spelling.
const std::string kRustLayout = R"(danube_service_url = "http://danube-broker:6650"
connector_name = "mqtt-iot-source"

[retry]
max_retries = 3
retry_backoff_ms = 1000
max_backoff_ms = 30000

[processing]
batch_size = 1000
batch_timeout_ms = 1000
poll_interval_ms = 100
metrics_port = 9090
log_level = "info"

[mqtt]
broker_host = "mosquitto"
broker_port = 1883
client_id = "danube-connector-1"
use_tls = false
keep_alive_secs = 60
connection_timeout_secs = 30
max_packet_size = 10485760
clean_session = true
include_metadata = true

[[mqtt.routes]]
from = "sensors/+/zone1"
to = "/iot/sensors_zone1"
qos = "AtLeastOnce"
partitions = 4

[[mqtt.routes]]
from = "debug/#"
to = "/iot/debug"
qos = "AtMostOnce"

[[mqtt.routes]]
from = "alarms/critical/#"
to = "/iot/alarms"
qos = "ExactlyOnce"
reliable_dispatch = false

[[schemas]]
topic = "/iot/debug"
subject = "debug-logs"
schema_type = "string"
schema_file = ""
auto_register = true
version_strategy = "latest"
)";

const std::string kMinimal = R"(danube_service_url = "http://localhost:6650"
connector_name = "m"
[mqtt]
broker_host = "localhost"
client_id = "c1"
)";

}  // namespace

BOOST_AUTO_TEST_CASE(topic_filters_follow_the_mqtt_rules) {
  BOOST_TEST(topic_matches("sensors/+/zone1", "sensors/t1/zone1"));
  BOOST_TEST(!topic_matches("sensors/+/zone1", "sensors/t1/zone2"));
  BOOST_TEST(!topic_matches("sensors/+/zone1", "sensors/a/b/zone1"));
  BOOST_TEST(topic_matches("sensors/#", "sensors"));
  BOOST_TEST(topic_matches("sensors/#", "sensors/a/b/c"));
  BOOST_TEST(!topic_matches("sensors/#", "sensorsX/a"));
  BOOST_TEST(topic_matches("#", "anything/at/all"));
  BOOST_TEST(!topic_matches("#", "$SYS/broker/uptime"));
  BOOST_TEST(!topic_matches("+/broker/uptime", "$SYS/broker/uptime"));
  BOOST_TEST(topic_matches("$SYS/#", "$SYS/broker/uptime"));
  BOOST_TEST(topic_matches("a/+", "a/"));
  BOOST_TEST(!topic_matches("a/+", "a"));
  BOOST_TEST(topic_matches("exact/topic", "exact/topic"));
  BOOST_TEST(!topic_matches("exact/topic", "exact/topic/more"));
  BOOST_TEST(topic_matches("+/+", "/finance"));

  BOOST_TEST(!topic_filter_problem("a/+/b/#").has_value());
  BOOST_TEST(topic_filter_problem("").has_value());
  BOOST_TEST(topic_filter_problem("a/#/b").has_value());
  BOOST_TEST(topic_filter_problem("a/b#").has_value());
  BOOST_TEST(topic_filter_problem("a/b+/c").has_value());
}

BOOST_AUTO_TEST_CASE(the_rust_connectors_configuration_loads_unchanged) {
  const auto config = load(kRustLayout);
  BOOST_TEST(config.processing.metrics_port == 9090u);
  const auto settings = read_mqtt_settings(config, environment_of({}));
  BOOST_TEST(settings.broker_host == "mosquitto");
  BOOST_TEST(settings.broker_port == 1883);
  BOOST_TEST(settings.client_id == "danube-connector-1");
  BOOST_TEST(settings.clean_session);
  BOOST_TEST(settings.max_packet_size == 10485760u);
  BOOST_TEST_REQUIRE(settings.routes.size() == 3u);
  BOOST_TEST(settings.routes[0].mqtt_filter == "sensors/+/zone1");
  BOOST_TEST(settings.routes[0].danube_topic == "/iot/sensors_zone1");
  BOOST_TEST(static_cast<int>(settings.routes[0].qos) == 1);
  BOOST_TEST(settings.routes[0].partitions == 4u);
  // reliable_dispatch follows the QoS unless set: QoS 0 not reliable, QoS 1/2 reliable.
  BOOST_TEST(settings.routes[0].reliable_dispatch);
  BOOST_TEST(!settings.routes[1].reliable_dispatch);
  BOOST_TEST(static_cast<int>(settings.routes[2].qos) == 2);
  BOOST_TEST(!settings.routes[2].reliable_dispatch);
  // The Rust connector keys partitioned messages by MQTT topic when include_metadata is on.
  BOOST_TEST(describe(settings.routes[0].routing_key) == "mqtt_topic");
  // Our own defaults.
  BOOST_TEST(settings.ack_after_publish);
  BOOST_TEST((settings.protocol_version == ProtocolVersion::v3_1_1));
}

BOOST_AUTO_TEST_CASE(the_older_topic_mappings_spelling_loads_too) {
  const auto settings = settings_of(kMinimal + R"(
[[mqtt.topic_mappings]]
mqtt_topic = "home/+/temperature"
danube_topic = "/default/temperature"
qos = "AtMostOnce"
)");
  BOOST_TEST_REQUIRE(settings.routes.size() == 1u);
  BOOST_TEST(settings.routes[0].mqtt_filter == "home/+/temperature");
  BOOST_TEST(settings.routes[0].danube_topic == "/default/temperature");
  BOOST_TEST(!settings.routes[0].reliable_dispatch);
}

BOOST_AUTO_TEST_CASE(the_rust_environment_variables_override_and_are_checked) {
  const std::string routes = "[[mqtt.routes]]\nfrom = \"a/#\"\nto = \"/default/a\"\n";
  const auto settings = settings_of(kMinimal + routes, {{"MQTT_BROKER_HOST", "mqtt.internal"},
                                                        {"MQTT_BROKER_PORT", "8883"},
                                                        {"MQTT_CLIENT_ID", "from-env"},
                                                        {"MQTT_USERNAME", "svc"},
                                                        {"MQTT_PASSWORD", "s3cret"},
                                                        {"MQTT_USE_TLS", "true"}});
  BOOST_TEST(settings.broker_host == "mqtt.internal");
  BOOST_TEST(settings.broker_port == 8883);
  BOOST_TEST(settings.client_id == "from-env");
  BOOST_TEST(settings.username.value_or("") == "svc");
  BOOST_TEST(settings.password.value_or("") == "s3cret");
  BOOST_TEST(settings.tls.enabled);
  BOOST_TEST(settings.warnings.empty());

  auto error = error_of(kMinimal + routes, {{"MQTT_BROKER_PORT", "eighty"}});
  BOOST_TEST(error.find("MQTT_BROKER_PORT") != std::string::npos, error);
  error = error_of(kMinimal + routes, {{"MQTT_USE_TLS", "yes"}});
  BOOST_TEST(error.find("MQTT_USE_TLS") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(a_password_in_the_file_works_but_is_warned_about) {
  const auto settings = settings_of(
      kMinimal +
      "username = \"u\"\npassword = \"p\"\n[[mqtt.routes]]\nfrom = \"a\"\nto = \"/default/a\"\n");
  BOOST_TEST(settings.password.value_or("") == "p");
  BOOST_TEST_REQUIRE(settings.warnings.size() == 1u);
  BOOST_TEST(settings.warnings[0].find("MQTT_PASSWORD") != std::string::npos);
  BOOST_TEST(settings.warnings[0].find("\"p\"") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_settings_name_their_key) {
  const std::string route = "[[mqtt.routes]]\nfrom = \"a/#\"\nto = \"/default/a\"\n";
  const std::map<std::string, std::string> cases = {
      {kMinimal + "[[mqtt.routes]]\nfrom = \"a/#\"\nto = \"/default/a\"\nqos = \"Sometimes\"\n",
       "qos"},
      {kMinimal + "[[mqtt.routes]]\nfrom = \"a/#/b\"\nto = \"/default/a\"\n", "from"},
      {kMinimal + "[[mqtt.routes]]\nfrom = \"a\"\nto = \"not a topic\"\n", "to"},
      {kMinimal + "[[mqtt.routes]]\nfrom = \"a\"\nto = \"/default/a\"\nqueue = 1\n", "queue"},
      {kMinimal + "[[mqtt.routes]]\nfrom = \"a\"\nto = \"/default/a\"\nrouting_key = \"json:x\"\n",
       "routing_key"},
      {kMinimal + "brokr_port = 1\n" + route, "brokr_port"},
      {kMinimal + "broker_port = 70000\n" + route, "broker_port"},
      {kMinimal + "protocol_version = \"4\"\n" + route, "protocol_version"},
      {kMinimal + "tls_ca_file = \"/ca.pem\"\n" + route, "use_tls"},
      {kMinimal, "routes"},
  };
  for (const auto& [toml, key] : cases) {
    const auto error = error_of(toml);
    BOOST_TEST(error.find(key) != std::string::npos, "expected '" << key << "' in: " << error);
    BOOST_TEST(error.find("/etc/connector.toml") != std::string::npos, error);
  }
}

BOOST_AUTO_TEST_CASE(messages_become_records_with_the_rust_attributes) {
  Route route;
  route.danube_topic = "/default/temps";
  route.routing_key.kind = RoutingKey::Kind::mqtt_topic;
  ReceivedMessage message;
  message.topic = "sensors/t1/zone1";
  message.payload = R"({"celsius": 21.5, "device": {"id": "t1"}})";
  message.qos = 1;
  message.retain = true;
  message.user_properties = {{"site", "north"}};
  auto record = make_record(message, route, true);
  BOOST_TEST(record.topic() == "/default/temps");
  BOOST_TEST(record.attributes().at("mqtt.topic") == "sensors/t1/zone1");
  BOOST_TEST(record.attributes().at("mqtt.qos") == "1");
  BOOST_TEST(record.attributes().at("mqtt.retain") == "true");
  BOOST_TEST(record.attributes().at("source") == "mqtt");
  BOOST_TEST(record.attributes().at("mqtt.user_property.site") == "north");
  BOOST_TEST(record.key().value_or("") == "sensors/t1/zone1");
  BOOST_TEST(record.json_value() != nullptr);

  // Not JSON: a base64 object, as the Rust connector publishes it.
  message.payload = std::string_view("\x01\x02\xff", 3);
  record = make_record(message, route, false);
  BOOST_TEST(record.attributes().empty());
  BOOST_TEST_REQUIRE(record.json_value() != nullptr);
  BOOST_TEST(record.json_value()->at("encoding") == "base64");
  BOOST_TEST(record.json_value()->at("data") == "AQL/");
  BOOST_TEST(record.json_value()->at("size") == 3);

  message.payload = R"({"device": {"id": "t9"}, "n": 4})";
  route.routing_key = {RoutingKey::Kind::json_pointer, 0, "/device/id"};
  BOOST_TEST(make_record(message, route, false).key().value_or("") == "t9");
  route.routing_key = {RoutingKey::Kind::json_pointer, 0, "/n"};
  BOOST_TEST(make_record(message, route, false).key().value_or("") == "4");
  route.routing_key = {RoutingKey::Kind::json_pointer, 0, "/missing"};
  BOOST_TEST(!make_record(message, route, false).key().has_value());
  route.routing_key = {RoutingKey::Kind::topic_level, 1, ""};
  BOOST_TEST(make_record(message, route, false).key().value_or("") == "t1");
  route.routing_key = {RoutingKey::Kind::topic_level, 7, ""};
  BOOST_TEST(!make_record(message, route, false).key().has_value());
}

BOOST_AUTO_TEST_CASE(the_stored_watermark_says_when_everything_handed_out_is_stored) {
  StoredWatermark watermark(41);
  BOOST_TEST(watermark.all_stored());
  BOOST_TEST(watermark.next_number() == 42u);
  BOOST_TEST(watermark.next_number() == 43u);
  BOOST_TEST(!watermark.all_stored());
  watermark.stored_up_to(42);
  BOOST_TEST(!watermark.all_stored());
  watermark.stored_up_to(40);  // never backwards
  BOOST_TEST(watermark.stored() == 42u);
  watermark.stored_up_to(43);
  BOOST_TEST(watermark.all_stored());
}
