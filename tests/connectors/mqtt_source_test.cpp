// danube-source-mqtt as a process, between a real mosquitto and the embedded broker (both
// processes started here); a Danube client in the test reads what arrived.
#include <signal.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "chaos_support.hpp"
#include "connector_rig.hpp"
#include "credentials.hpp"
#include "danube/client/client.hpp"
#include "danube/runtime/run.hpp"
#include "mqtt_test_support.hpp"
#include "promtool_check.hpp"

using namespace danube;
using namespace danube::chaos;
using namespace danube::mqtt_test;
using namespace std::chrono_literals;

namespace {

const std::filesystem::path kBrokerBinary = DANUBE_EMBEDDED_BROKER_PATH;
const std::filesystem::path kConnectorBinary = CONNECTOR_PATH;

// The shared rig with danube-source-mqtt and a mosquitto beside the broker.
struct Rig : connector_test::ConnectorRig {
  explicit Rig(const std::string& label, const std::vector<std::string>& topics,
               MosquittoOptions mosquitto_options = {})
      : ConnectorRig(label, kBrokerBinary, kConnectorBinary, topics),
        mosquitto(dir.path() / "mosquitto", std::move(mosquitto_options)) {
    mosquitto.start();
  }

  std::string mqtt_header(const std::string& client_id, bool clean_session = true) const {
    return "[mqtt]\nbroker_host = \"127.0.0.1\"\nbroker_port = " +
           std::to_string(mosquitto.port()) + "\nclient_id = \"" + client_id +
           "\"\nclean_session = " + (clean_session ? "true" : "false") +
           "\nreconnect_delay_ms = 100\nmax_reconnect_delay_ms = 500\n";
  }

  MosquittoServer mosquitto;
};

std::string route(const std::string& from, const std::string& to, const std::string& qos,
                  const std::string& more = "") {
  return "[[mqtt.routes]]\nfrom = \"" + from + "\"\nto = \"" + to + "\"\nqos = \"" + qos + "\"\n" +
         more;
}

using connector_test::receive;

// Waits until the connector has subscribed to `filters` routes.
void wait_subscribed(ConnectorProcess& connector, std::size_t filters) {
  const bool subscribed = wait_until(
      [&] { return connector.log().lines_with("event=mqtt_subscribed").size() >= filters; }, 20s);
  BOOST_TEST_REQUIRE(subscribed, connector.log().tail());
}

std::string attribute(const client::ReceivedMessage& message, const std::string& name) {
  const auto found = message.attributes.find(name);
  return found == message.attributes.end() ? "<none>" : found->second;
}

// Counts numbered messages ({"n": <n>}) exactly: distinct, duplicates, and the lowest missing.
struct NumberLedger {
  explicit NumberLedger(std::size_t expected) : seen(expected, 0) {}
  void add(const client::ReceivedMessage& message) {
    const auto value = nlohmann::json::parse(message.payload, nullptr, false);
    if (!value.is_object() || !value.contains("n")) {
      ++foreign;
      return;
    }
    const auto n = value["n"].get<std::size_t>();
    if (n >= seen.size()) {
      ++foreign;
      return;
    }
    if (seen[n]++ == 0) {
      ++distinct;
    } else {
      ++duplicates;
    }
  }
  std::size_t lost() const { return seen.size() - distinct; }
  std::vector<std::uint8_t> seen;
  std::size_t distinct = 0;
  std::size_t duplicates = 0;
  std::size_t foreign = 0;
};

void drain_into(NumberLedger& ledger, client::Consumer& consumer, std::chrono::milliseconds wait) {
  for (auto& message : consumer.receive(1000, wait)) {
    consumer.ack_async(message);
    ledger.add(message);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(wildcard_routes_qos_levels_and_attributes) {
  Rig rig("mqtt-routes", {"/default/mqtt-temps:partitions=2", "/default/mqtt-alarms",
                          "/default/mqtt-debug:non-reliable"});
  auto temps = rig.subscribe("/default/mqtt-temps");
  auto alarms = rig.subscribe("/default/mqtt-alarms");
  auto debug = rig.subscribe("/default/mqtt-debug");
  auto connector = rig.connector(
      "mqtt-routes",
      rig.mqtt_header("routes-1") +
          route("sensors/+/temp", "/default/mqtt-temps", "AtLeastOnce", "partitions = 2\n") +
          route("alarms/#", "/default/mqtt-alarms", "ExactlyOnce") +
          route("debug/#", "/default/mqtt-debug", "AtMostOnce"));
  connector->start();
  wait_subscribed(*connector, 3);

  MqttPublisher publisher(rig.mosquitto.port(), "publisher-routes");
  publisher.publish("sensors/t1/temp", R"({"c": 1})", 1);
  publisher.publish("sensors/t2/temp", R"({"c": 2})", 1);
  // Matches no route: the connector subscribes only to its routes' filters, so mosquitto does
  // not even deliver it.
  publisher.publish("sensors/t1/humidity", R"({"rh": 40})", 1);
  publisher.publish("alarms/fire/floor2", R"({"level": "high"})", 2);
  publisher.publish("alarms", "plain text", 2);  // "alarms/#" matches its parent level too
  publisher.publish("debug/x", "trace", 0);
  BOOST_TEST_REQUIRE(publisher.wait_acknowledged(10s));

  auto temp_messages = receive(*temps, 2);
  BOOST_TEST_REQUIRE(temp_messages.size() == 2u, connector->log().tail());
  std::map<std::string, client::ReceivedMessage> by_topic;
  for (auto& message : temp_messages)
    by_topic[attribute(message, "mqtt.topic")] = message;
  BOOST_TEST_REQUIRE(by_topic.count("sensors/t1/temp") == 1u);
  const auto& t1 = by_topic["sensors/t1/temp"];
  BOOST_TEST(t1.payload == R"({"c":1})");
  BOOST_TEST(attribute(t1, "mqtt.qos") == "1");
  BOOST_TEST(attribute(t1, "mqtt.retain") == "false");
  BOOST_TEST(attribute(t1, "source") == "mqtt");
  BOOST_TEST(t1.routing_key.value_or("") == "sensors/t1/temp");
  BOOST_TEST(by_topic.count("sensors/t2/temp") == 1u);

  auto alarm_messages = receive(*alarms, 2);
  BOOST_TEST_REQUIRE(alarm_messages.size() == 2u, connector->log().tail());
  for (const auto& message : alarm_messages) {
    BOOST_TEST(attribute(message, "mqtt.qos") == "2");
    if (attribute(message, "mqtt.topic") == "alarms") {
      const auto value = nlohmann::json::parse(message.payload);
      BOOST_TEST(value.at("encoding") == "base64");
      BOOST_TEST(value.at("size") == 10);
    } else {
      BOOST_TEST(message.payload == R"({"level":"high"})");
    }
  }
  auto debug_messages = receive(*debug, 1);
  BOOST_TEST_REQUIRE(debug_messages.size() == 1u);
  BOOST_TEST(attribute(debug_messages[0], "mqtt.qos") == "0");

  BOOST_TEST(scrape_metric(connector->http_port(), "mqtt_messages_received_total").value_or(-1) ==
             5.0);
  BOOST_TEST(scrape_metric(connector->http_port(), "mqtt_messages_unrouted_total").value_or(-1) ==
             0.0);
  const auto metrics = http_get(connector->http_port(), "/metrics");
  BOOST_TEST_REQUIRE(metrics.has_value());
  danube::test::check_with_promtool(metrics->body, "danube-source-mqtt");
  // Nothing else arrives: the humidity reading was published nowhere.
  BOOST_TEST(temps->receive(10, 300ms).empty());
  BOOST_TEST(alarms->receive(10, 100ms).empty());
  connector->signal(SIGTERM);
  BOOST_TEST(connector->wait(20s).clean());
}

BOOST_AUTO_TEST_CASE(retained_messages_and_mqtt5_user_properties) {
  Rig rig("mqtt-retained", {"/default/mqtt-retained"});
  {
    MqttPublisher early(rig.mosquitto.port(), "publisher-early");
    early.publish("status/device9", R"({"online": true})", 1, /*retain=*/true);
    BOOST_TEST_REQUIRE(early.wait_acknowledged(10s));
  }
  auto consumer = rig.subscribe("/default/mqtt-retained");
  auto connector =
      rig.connector("mqtt-retained", rig.mqtt_header("retained-1") + "protocol_version = \"5\"\n" +
                                         route("status/#", "/default/mqtt-retained", "AtLeastOnce",
                                               "routing_key = \"topic_level:1\"\n"));
  connector->start();
  auto retained = receive(*consumer, 1);
  BOOST_TEST_REQUIRE(retained.size() == 1u, connector->log().tail());
  BOOST_TEST(attribute(retained[0], "mqtt.retain") == "true");
  BOOST_TEST(retained[0].routing_key.value_or("") == "device9");

  MqttPublisher publisher(rig.mosquitto.port(), "publisher-v5", /*mqtt5=*/true);
  publisher.publish("status/device3", R"({"online": false})", 1, false,
                    {{"site", "north"}, {"firmware", "1.2.3"}});
  BOOST_TEST_REQUIRE(publisher.wait_acknowledged(10s));
  auto live = receive(*consumer, 1);
  BOOST_TEST_REQUIRE(live.size() == 1u, connector->log().tail());
  BOOST_TEST(attribute(live[0], "mqtt.retain") == "false");
  BOOST_TEST(attribute(live[0], "mqtt.user_property.site") == "north");
  BOOST_TEST(attribute(live[0], "mqtt.user_property.firmware") == "1.2.3");
}

BOOST_AUTO_TEST_CASE(username_and_password_from_the_environment_and_a_clear_refusal) {
  MosquittoOptions options;
  options.user = std::make_pair(std::string("sensor-gw"), std::string("pa55-word"));
  Rig rig("mqtt-auth", {"/default/mqtt-auth"}, options);
  auto consumer = rig.subscribe("/default/mqtt-auth");
  const std::string table =
      rig.mqtt_header("auth-1") + route("auth/#", "/default/mqtt-auth", "AtLeastOnce");
  auto connector = rig.connector("mqtt-auth", table);
  connector->set_environment({"MQTT_USERNAME=sensor-gw", "MQTT_PASSWORD=pa55-word"});
  connector->start();
  wait_subscribed(*connector, 1);
  MqttPublisher publisher(rig.mosquitto.port(), "publisher-auth", false, options.user);
  publisher.publish("auth/x", R"({"ok": 1})", 1);
  BOOST_TEST_REQUIRE(publisher.wait_acknowledged(10s));
  BOOST_TEST(receive(*consumer, 1).size() == 1u);

  auto refused = rig.connector(
      "mqtt-auth-bad",
      rig.mqtt_header("auth-2") + route("auth/#", "/default/mqtt-auth", "AtLeastOnce"),
      /*restart_on_fatal=*/false);
  refused->set_environment({"MQTT_USERNAME=sensor-gw", "MQTT_PASSWORD=wrong-secret"});
  refused->start(/*wait_running=*/false);
  const auto status = refused->wait(60s);
  BOOST_TEST(status.exited);
  BOOST_TEST(status.code == runtime::kExitFailed, status.describe());
  BOOST_TEST(!refused->log().lines_with("refused the connection").empty(), refused->log().tail());
  BOOST_TEST(refused->log().lines_with("wrong-secret").empty());
  BOOST_TEST(connector->log().lines_with("pa55-word").empty());
}

BOOST_AUTO_TEST_CASE(tls_with_a_configured_certificate_authority) {
  test::SelfSignedCertificate certificate;
  MosquittoOptions options;
  options.tls_cert_file = certificate.cert_file();
  options.tls_key_file = certificate.key_file();
  Rig rig("mqtt-tls", {"/default/mqtt-tls"}, options);
  auto consumer = rig.subscribe("/default/mqtt-tls");
  auto connector =
      rig.connector("mqtt-tls", rig.mqtt_header("tls-1") + "use_tls = true\ntls_ca_file = \"" +
                                    certificate.cert_file().string() + "\"\n" +
                                    route("secure/#", "/default/mqtt-tls", "AtLeastOnce"));
  connector->start();
  wait_subscribed(*connector, 1);
  // The publisher speaks TLS too; the connector's side is what this test is about, so publish
  // through mosquitto_pub with the same CA.
  const std::string command =
      "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(rig.mosquitto.port()) + " --cafile " +
      certificate.cert_file().string() + " -q 1 -t secure/door -m '{\"open\":false}'";
  BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0);
  auto received = receive(*consumer, 1);
  BOOST_TEST_REQUIRE(received.size() == 1u, connector->log().tail());
  BOOST_TEST(received[0].payload == R"({"open":false})");
}

BOOST_AUTO_TEST_CASE(tls_with_a_client_certificate_and_a_refusal_without_one) {
  test::SelfSignedCertificate certificate;
  MosquittoOptions options;
  options.tls_cert_file = certificate.cert_file();
  options.tls_key_file = certificate.key_file();
  // The self-signed certificate is its own CA: the client presents the same one.
  options.client_ca_file = certificate.cert_file();
  Rig rig("mqtt-mtls", {"/default/mqtt-mtls"}, options);
  auto consumer = rig.subscribe("/default/mqtt-mtls");
  const std::string tls =
      "use_tls = true\ntls_ca_file = \"" + certificate.cert_file().string() + "\"\n";
  auto connector =
      rig.connector("mqtt-mtls", rig.mqtt_header("mtls-1") + tls + "tls_cert_file = \"" +
                                     certificate.cert_file().string() + "\"\ntls_key_file = \"" +
                                     certificate.key_file().string() + "\"\n" +
                                     route("secure/#", "/default/mqtt-mtls", "AtLeastOnce"));
  connector->start();
  wait_subscribed(*connector, 1);
  const std::string command =
      "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(rig.mosquitto.port()) + " --cafile " +
      certificate.cert_file().string() + " --cert " + certificate.cert_file().string() + " --key " +
      certificate.key_file().string() + " -q 1 -t secure/gate -m '{\"open\":true}'";
  BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0);
  auto received = receive(*consumer, 1);
  BOOST_TEST_REQUIRE(received.size() == 1u, connector->log().tail());
  BOOST_TEST(received[0].payload == R"({"open":true})");

  // Without a client certificate the handshake fails: a configuration problem, reported as such.
  auto refused = rig.connector("mqtt-mtls-bad",
                               rig.mqtt_header("mtls-2") + tls + "connection_timeout_secs = 5\n" +
                                   route("secure/#", "/default/mqtt-mtls", "AtLeastOnce"),
                               /*restart_on_fatal=*/false);
  refused->start(/*wait_running=*/false);
  const auto status = refused->wait(60s);
  BOOST_TEST(status.code == runtime::kExitFailed, status.describe() << refused->log().tail());
  BOOST_TEST(!refused->log().lines_with("refused the connection").empty(), refused->log().tail());
}

BOOST_AUTO_TEST_CASE(a_mosquitto_restart_loses_nothing_with_a_persistent_session) {
  Rig rig("mqtt-restart", {"/default/mqtt-restart"});
  auto consumer = rig.subscribe("/default/mqtt-restart");
  auto connector =
      rig.connector("mqtt-restart", rig.mqtt_header("restart-1", /*clean_session=*/false) +
                                        route("meters/+", "/default/mqtt-restart", "AtLeastOnce"));
  connector->start();
  wait_subscribed(*connector, 1);
  constexpr std::size_t kPerPhase = 300;
  NumberLedger ledger(2 * kPerPhase);
  {
    MqttPublisher publisher(rig.mosquitto.port(), "publisher-restart-1");
    for (std::size_t n = 0; n < kPerPhase; ++n)
      publisher.publish("meters/m" + std::to_string(n % 7), R"({"n": )" + std::to_string(n) + "}",
                        1);
    BOOST_TEST_REQUIRE(publisher.wait_acknowledged(20s));
  }
  BOOST_TEST_REQUIRE(wait_until(
      [&] {
        drain_into(ledger, *consumer, 50ms);
        return ledger.distinct >= kPerPhase;
      },
      30s));

  rig.mosquitto.stop();
  rig.mosquitto.start();
  // Published at once: the connector may not be back yet, and its persistent session keeps
  // these for it.
  {
    MqttPublisher publisher(rig.mosquitto.port(), "publisher-restart-2");
    for (std::size_t n = kPerPhase; n < 2 * kPerPhase; ++n)
      publisher.publish("meters/m" + std::to_string(n % 7), R"({"n": )" + std::to_string(n) + "}",
                        1);
    BOOST_TEST_REQUIRE(publisher.wait_acknowledged(20s));
  }
  const bool complete = wait_until(
      [&] {
        drain_into(ledger, *consumer, 50ms);
        return ledger.distinct == 2 * kPerPhase;
      },
      60s);
  print_figures("mqtt_mosquitto_restart",
                {{"published", std::to_string(2 * kPerPhase)},
                 {"lost", std::to_string(ledger.lost())},
                 {"duplicates", std::to_string(ledger.duplicates)},
                 {"reconnects",
                  std::to_string(connector->log().lines_with("event=mqtt_connected").size() - 1)}});
  BOOST_TEST(complete, connector->log().tail());
  BOOST_TEST(ledger.lost() == 0u);
  BOOST_TEST(ledger.foreign == 0u);
}

BOOST_AUTO_TEST_CASE(connector_sigkilled_while_qos1_publishers_run_loses_nothing) {
  Rig rig("mqtt-sigkill", {"/default/mqtt-sigkill:partitions=2"});
  auto consumer = rig.subscribe("/default/mqtt-sigkill");
  auto connector = rig.connector(
      "mqtt-sigkill",
      rig.mqtt_header("sigkill-1", /*clean_session=*/false) +
          route("plant/+/power", "/default/mqtt-sigkill", "AtLeastOnce", "partitions = 2\n"));
  connector->start();
  wait_subscribed(*connector, 1);

  constexpr std::size_t kMessages = 3000;
  constexpr int kKills = 3;
  NumberLedger ledger(kMessages);
  std::atomic<std::size_t> published{0};
  std::thread publishers([&] {
    MqttPublisher publisher(rig.mosquitto.port(), "publisher-sigkill");
    for (std::size_t n = 0; n < kMessages; ++n) {
      publisher.publish("plant/line" + std::to_string(n % 4) + "/power",
                        R"({"n": )" + std::to_string(n) + "}", 1);
      published = n + 1;
      if (n % 50 == 49) std::this_thread::sleep_for(20ms);  // ~2500 messages per second at most
    }
    publisher.wait_acknowledged(60s);
  });
  int kills = 0;
  for (int kill = 1; kill <= kKills; ++kill) {
    const std::size_t threshold = kill * kMessages / (kKills + 1);
    const bool reached = wait_until(
        [&] {
          drain_into(ledger, *consumer, 20ms);
          return ledger.distinct >= threshold;
        },
        60s);
    if (!reached) break;
    BOOST_TEST_REQUIRE(connector->kill().signal == SIGKILL);
    ++kills;
    connector->start();
  }
  publishers.join();
  const bool complete = wait_until(
      [&] {
        drain_into(ledger, *consumer, 50ms);
        return ledger.distinct == kMessages;
      },
      90s);
  print_figures("mqtt_connector_sigkill", {{"published", std::to_string(published.load())},
                                           {"kills", std::to_string(kills)},
                                           {"lost", std::to_string(ledger.lost())},
                                           {"duplicates", std::to_string(ledger.duplicates)}});
  BOOST_TEST(kills == kKills, connector->log().tail());
  BOOST_TEST(complete, connector->log().tail());
  BOOST_TEST(ledger.lost() == 0u);
  BOOST_TEST(ledger.foreign == 0u);
}

BOOST_AUTO_TEST_CASE(a_danube_broker_restart_loses_nothing) {
  ScratchDirectory dir("mqtt-danube-restart");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--data-dir", (dir.path() / "broker-data").string(), "--topic",
       "/default/mqtt-danube-restart", "--max-unacked", "1000", "--log-level", "warn"});
  broker.start();
  MosquittoServer mosquitto(dir.path() / "mosquitto");
  mosquitto.start();
  ConnectorToml toml;
  toml.service_url = broker.service_url();
  toml.connector_name = "mqtt-danube-restart";
  toml.extra =
      "[offsets]\nstate_dir = \"" + (dir.path() / "state").string() + "\"\n" +
      "[mqtt]\nbroker_host = \"127.0.0.1\"\nbroker_port = " + std::to_string(mosquitto.port()) +
      "\nclient_id = \"danube-restart-1\"\nclean_session = false\n" +
      route("grid/#", "/default/mqtt-danube-restart", "AtLeastOnce");
  write_text_file(dir.path() / "connector.toml", toml.render());
  client::ClientOptions options;
  options.service_url = broker.service_url();
  auto created = client::DanubeClient::create(options);
  BOOST_TEST_REQUIRE(created.ok());
  auto danube = std::move(created).value();
  client::ConsumerOptions consumer_options;
  consumer_options.topic = "/default/mqtt-danube-restart";
  consumer_options.consumer_name = "checker";
  consumer_options.subscription = "checker";
  auto subscribed = danube.subscribe(consumer_options);
  BOOST_TEST_REQUIRE(subscribed.ok());
  auto consumer = std::move(subscribed).value();

  ConnectorProcess connector("mqtt-danube-restart", kConnectorBinary, dir.path() / "connector.toml",
                             dir.path());
  connector.start();
  wait_subscribed(connector, 1);

  constexpr std::size_t kMessages = 2000;
  std::atomic<std::size_t> published{0};
  std::thread publishing([&] {
    MqttPublisher publisher(mosquitto.port(), "publisher-danube-restart");
    for (std::size_t n = 0; n < kMessages; ++n) {
      publisher.publish("grid/meter" + std::to_string(n % 5), R"({"n": )" + std::to_string(n) + "}",
                        1);
      published = n + 1;
      if (n % 50 == 49) std::this_thread::sleep_for(20ms);
    }
    publisher.wait_acknowledged(60s);
  });
  // Restart the broker (SIGKILL; its data directory keeps the topic and the subscription)
  // once a third is out, while the publisher goes on.
  NumberLedger ledger(kMessages);
  BOOST_TEST_REQUIRE(wait_until(
      [&] {
        drain_into(ledger, *consumer, 20ms);
        return published.load() >= kMessages / 3;
      },
      60s));
  broker.kill();
  broker.start();
  publishing.join();
  const bool complete = wait_until(
      [&] {
        drain_into(ledger, *consumer, 50ms);
        return ledger.distinct == kMessages;
      },
      60s);
  print_figures("mqtt_danube_restart", {{"published", std::to_string(published.load())},
                                        {"lost", std::to_string(ledger.lost())},
                                        {"duplicates", std::to_string(ledger.duplicates)}});
  BOOST_TEST(complete, connector.log().tail());
  BOOST_TEST(ledger.lost() == 0u);
}

// Resident memory of a process in KiB (0 when unknown).
std::uint64_t resident_kib(pid_t pid) {
  std::ifstream status("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6));
  }
  return 0;
}

BOOST_AUTO_TEST_CASE(with_danube_down_intake_stops_at_the_inflight_limit_and_memory_stays_flat) {
  ScratchDirectory dir("mqtt-backpressure");
  BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--data-dir", (dir.path() / "broker-data").string(), "--topic", "/default/mqtt-backpressure",
       "--max-unacked", "1000", "--log-level", "warn"});
  broker.start();
  MosquittoServer mosquitto(dir.path() / "mosquitto");
  mosquitto.start();
  client::ClientOptions options;
  options.service_url = broker.service_url();
  auto danube = client::DanubeClient::create(options);
  BOOST_TEST_REQUIRE(danube.ok());
  client::ConsumerOptions consumer_options;
  consumer_options.topic = "/default/mqtt-backpressure";
  consumer_options.consumer_name = "checker";
  consumer_options.subscription = "checker";
  auto subscribed = danube.value().subscribe(consumer_options);
  BOOST_TEST_REQUIRE(subscribed.ok());
  auto consumer = std::move(subscribed).value();

  ConnectorToml toml;
  toml.service_url = broker.service_url();
  toml.connector_name = "mqtt-backpressure";
  toml.max_inflight_records = 200;
  toml.extra =
      "[offsets]\nstate_dir = \"" + (dir.path() / "state").string() + "\"\n" +
      "[mqtt]\nbroker_host = \"127.0.0.1\"\nbroker_port = " + std::to_string(mosquitto.port()) +
      "\nclient_id = \"backpressure-1\"\nclean_session = false\n" +
      route("load/#", "/default/mqtt-backpressure", "AtLeastOnce");
  write_text_file(dir.path() / "connector.toml", toml.render());
  ConnectorProcess connector("mqtt-backpressure", kConnectorBinary, dir.path() / "connector.toml",
                             dir.path());
  connector.start();
  wait_subscribed(connector, 1);
  const auto rss_before = resident_kib(connector.process().pid());

  broker.kill();
  // 5 000 messages of 4 KiB (20 MiB) while Danube is down.
  constexpr std::size_t kMessages = 5000;
  const std::string padding(4000, 'p');
  {
    MqttPublisher publisher(mosquitto.port(), "publisher-backpressure");
    for (std::size_t n = 0; n < kMessages; ++n)
      publisher.publish("load/x",
                        R"({"n": )" + std::to_string(n) + R"(, "pad": ")" + padding + "\"}", 1);
    BOOST_TEST_REQUIRE(publisher.wait_acknowledged(60s));
  }
  // Give the connector time to take whatever it would take (it cannot publish meanwhile).
  std::uint64_t taken = 0;
  wait_until(
      [&] {
        const auto value = scrape_metric(connector.http_port(), "mqtt_messages_received_total");
        const bool settled = value && static_cast<std::uint64_t>(*value) == taken && taken > 0;
        taken = value ? static_cast<std::uint64_t>(*value) : taken;
        return settled;
      },
      5s);
  const auto rss_during = resident_kib(connector.process().pid());

  broker.start();
  NumberLedger ledger(kMessages);
  const bool complete = wait_until(
      [&] {
        drain_into(ledger, *consumer, 50ms);
        return ledger.distinct == kMessages;
      },
      90s);
  print_figures("mqtt_backpressure", {{"published_while_down", std::to_string(kMessages)},
                                      {"taken_while_down", std::to_string(taken)},
                                      {"rss_before_kib", std::to_string(rss_before)},
                                      {"rss_during_kib", std::to_string(rss_during)},
                                      {"lost", std::to_string(ledger.lost())},
                                      {"duplicates", std::to_string(ledger.duplicates)}});
  // The runtime holds at most max_inflight_records; the network thread blocks on the next one.
  BOOST_TEST(taken <= 200u + 1u);
  // Far less than the 20 MiB the MQTT broker holds for it.
  BOOST_TEST(rss_during < rss_before + 8 * 1024);
  BOOST_TEST(complete, connector.log().tail());
  BOOST_TEST(ledger.lost() == 0u);
}

BOOST_AUTO_TEST_CASE(bad_configuration_exits_2_and_names_the_key) {
  Rig rig("mqtt-badconfig", {});
  struct Case {
    std::string table;
    std::vector<std::string> environment;
    std::string named;
  };
  const std::vector<Case> cases = {
      {rig.mqtt_header("bad-1") + route("a/#", "/default/a", "Sometimes"), {}, "qos"},
      {rig.mqtt_header("bad-2") + route("a/#/b", "/default/a", "AtLeastOnce"), {}, "from"},
      {rig.mqtt_header("bad-3") + "brokr = 1\n" + route("a/#", "/default/a", "AtLeastOnce"),
       {},
       "brokr"},
      {rig.mqtt_header("bad-4") + route("a/#", "/default/a", "AtLeastOnce"),
       {"MQTT_BROKER_PORT=eighty"},
       "MQTT_BROKER_PORT"},
  };
  int index = 0;
  for (const auto& bad : cases) {
    auto connector = rig.connector("mqtt-bad-" + std::to_string(++index), bad.table, false);
    connector->set_environment(bad.environment);
    connector->start(/*wait_running=*/false);
    const auto status = connector->wait(30s);
    BOOST_TEST(status.code == runtime::kExitConfigError, bad.named << ": " << status.describe());
    BOOST_TEST(!connector->log().lines_with(bad.named).empty(), bad.named
                                                                    << " not named:\n"
                                                                    << connector->log().tail());
  }
}
