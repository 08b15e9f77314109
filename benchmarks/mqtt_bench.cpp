// danube-mqtt-bench: MQTT messages per second into Danube through danube-source-mqtt, beside the
// two limits of this machine measured in the same run with the same messages:
//   mosquitto:  a publisher -> mosquitto -> a bare libmosquitto subscriber;
//   client:     our Danube client publishing -> the embedded broker -> a consumer;
//   connector:  a publisher -> mosquitto -> danube-source-mqtt -> the embedded broker -> a
//   consumer.
// Each message carries its send time, so every path reports p50/p99 latency besides throughput.
#include <signal.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.hpp"
#include "chaos_support.hpp"
#include "danube/client/client.hpp"
#include "mqtt_test_support.hpp"

namespace {

using namespace danube;
using Clock = std::chrono::steady_clock;

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

std::string payload(std::size_t n, std::size_t pad) {
  return R"({"n":)" + std::to_string(n) + R"(,"t":)" + std::to_string(now_us()) + R"(,"pad":")" +
         std::string(pad, 'x') + "\"}";
}

struct Figures {
  std::string path;
  std::size_t messages = 0;
  double seconds = 0;
  std::vector<double> latencies_ms;
  double rate() const { return seconds > 0 ? static_cast<double>(messages) / seconds : 0; }
};

void print(const Figures& figures) {
  std::printf("%-10s delivered=%zu seconds=%.3f msg_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
              figures.path.c_str(), figures.messages, figures.seconds, figures.rate(),
              bench::percentile(figures.latencies_ms, 50),
              bench::percentile(figures.latencies_ms, 99));
}

double latency_ms(const std::string& text, Clock::time_point arrived) {
  const auto value = nlohmann::json::parse(text);
  const auto sent = value.at("t").get<std::int64_t>();
  const auto arrived_us =
      std::chrono::duration_cast<std::chrono::microseconds>(arrived.time_since_epoch()).count();
  return static_cast<double>(arrived_us - sent) / 1000.0;
}

Figures through_mosquitto(std::uint16_t port, std::size_t count, std::size_t pad, int qos) {
  mqtt_test::MqttSubscriber subscriber(port, "bench-bare-subscriber", "bare/#", qos);
  mqtt_test::MqttPublisher publisher(port, "bench-bare-publisher");
  const auto start = Clock::now();
  for (std::size_t n = 0; n < count; ++n)
    publisher.publish("bare/s" + std::to_string(n % 8), payload(n, pad), qos);
  const auto payloads = subscriber.wait_for(count, std::chrono::minutes(5));
  Figures figures;
  figures.path = "mosquitto";
  figures.messages = count;
  if (!payloads) throw std::runtime_error("mosquitto path: not every message arrived");
  const auto arrivals = subscriber.arrivals();
  figures.seconds = std::chrono::duration<double>(arrivals[count - 1] - start).count();
  for (std::size_t i = 0; i < count; ++i)
    figures.latencies_ms.push_back(latency_ms((*payloads)[i], arrivals[i]));
  return figures;
}

// Receives `count` messages (acking each); their latencies and the time of the last one.
// QoS 0 and non-reliable topics may drop messages under load (at most once): with
// `allow_loss`, receiving ends after two idle seconds and the figures count what arrived.
Figures consume(client::Consumer& consumer, std::size_t count, Clock::time_point start,
                const std::string& path, bool allow_loss) {
  Figures figures;
  figures.path = path;
  figures.messages = count;
  Clock::time_point last = start;
  const auto deadline = Clock::now() + std::chrono::minutes(5);
  std::size_t received = 0;
  while (received < count && Clock::now() < deadline) {
    if (allow_loss && received > 0 && Clock::now() - last > std::chrono::seconds(2)) break;
    for (auto& message : consumer.receive(1000, std::chrono::milliseconds(50))) {
      last = Clock::now();
      consumer.ack_async(message);
      figures.latencies_ms.push_back(latency_ms(message.payload, last));
      ++received;
    }
  }
  figures.messages = received;
  if (received < count && !allow_loss) {
    throw std::runtime_error(path + " path: " + std::to_string(received) + " of " +
                             std::to_string(count) + " arrived");
  }
  figures.seconds = std::chrono::duration<double>(last - start).count();
  return figures;
}

std::unique_ptr<client::Consumer> subscribe(client::DanubeClient& danube,
                                            const std::string& topic) {
  client::ConsumerOptions options;
  options.topic = topic;
  options.consumer_name = "bench";
  options.subscription = "bench";
  auto created = danube.subscribe(options);
  if (!created.ok())
    throw std::runtime_error("subscribe " + topic + ": " + created.error().to_string());
  return std::move(created).value();
}

Figures through_client(client::DanubeClient& danube, const std::string& topic, std::size_t count,
                       std::size_t pad, bool reliable) {
  auto consumer = subscribe(danube, topic);
  client::ProducerOptions options;
  options.topic = topic;
  options.name = "bench-direct";
  options.dispatch = reliable ? Dispatch::reliable : Dispatch::non_reliable;
  auto created = danube.create_producer(options);
  if (!created.ok()) throw std::runtime_error("producer: " + created.error().to_string());
  auto producer = std::move(created).value();
  const auto start = Clock::now();
  std::thread sending([&] {
    for (std::size_t n = 0; n < count; ++n)
      producer->send_async(client::OutgoingMessage{payload(n, pad), {}, std::nullopt}, {});
  });
  auto figures = consume(*consumer, count, start, "client", !reliable);
  sending.join();
  return figures;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"danube-source-mqtt throughput beside mosquitto and the Danube client"};
  std::size_t messages = 20'000;
  std::size_t payload_bytes = 100;
  int qos = 1;
  bool ack_after_publish = true;
  int commit_interval_ms = -1;
  std::string broker_binary;
  std::string connector_binary;
  app.add_option("--messages", messages, "messages per path")->check(CLI::Range(1, 10'000'000));
  app.add_option("--payload-bytes", payload_bytes, "padding in each JSON payload");
  app.add_option("--qos", qos, "MQTT QoS of the publishers and the route")->check(CLI::Range(0, 2));
  app.add_option("--ack-after-publish", ack_after_publish, "the connector's [mqtt] setting");
  app.add_option("--commit-interval-ms", commit_interval_ms,
                 "the connector's [offsets] commit_interval_ms (default: the connector's, 0)");
  app.add_option("--broker", broker_binary, "danube-embedded-broker")->required();
  app.add_option("--connector", connector_binary, "danube-source-mqtt")->required();
  CLI11_PARSE(app, argc, argv);

  const std::string topic = "/default/mqtt-bench";
  const bool reliable = qos > 0;
  chaos::ScratchDirectory dir("mqtt-bench");
  chaos::BrokerProcess broker(broker_binary, dir.path(),
                              {"--topic", topic + (reliable ? "" : ":non-reliable"), "--topic",
                               topic + "-direct" + (reliable ? "" : ":non-reliable"),
                               "--max-unacked", "1000", "--log-level", "warn"});
  broker.start();
  mqtt_test::MosquittoServer mosquitto(dir.path() / "mosquitto");
  mosquitto.start();
  client::ClientOptions client_options;
  client_options.service_url = broker.service_url();
  auto danube = client::DanubeClient::create(client_options);
  if (!danube.ok()) throw std::runtime_error("client: " + danube.error().to_string());

  std::printf("mqtt_bench messages=%zu payload_bytes=%zu qos=%d ack_after_publish=%s\n", messages,
              payload_bytes, qos, ack_after_publish ? "true" : "false");
  const auto bare = through_mosquitto(mosquitto.port(), messages, payload_bytes, qos);
  print(bare);
  const auto direct =
      through_client(danube.value(), topic + "-direct", messages, payload_bytes, reliable);
  print(direct);

  auto consumer = subscribe(danube.value(), topic);
  chaos::ConnectorToml toml;
  toml.service_url = broker.service_url();
  toml.connector_name = "mqtt-bench";
  toml.batch_timeout_ms = 5;
  toml.extra =
      "[offsets]\nstate_dir = \"" + (dir.path() / "state").string() + "\"\n" +
      (commit_interval_ms >= 0 ? "commit_interval_ms = " + std::to_string(commit_interval_ms) + "\n"
                               : std::string()) +
      "[mqtt]\nbroker_host = \"127.0.0.1\"\nbroker_port = " + std::to_string(mosquitto.port()) +
      "\nclient_id = \"bench-connector\"\n" +
      "ack_after_publish = " + (ack_after_publish ? "true" : "false") + "\n" +
      "[[mqtt.routes]]\nfrom = \"bench/#\"\nto = \"" + topic + "\"\nqos = " + std::to_string(qos) +
      "\n";
  chaos::write_text_file(dir.path() / "connector.toml", toml.render());
  chaos::ConnectorProcess connector("mqtt-bench", connector_binary, dir.path() / "connector.toml",
                                    dir.path());
  connector.start();
  if (!chaos::wait_until(
          [&] { return !connector.log().lines_with("event=mqtt_subscribed").empty(); },
          std::chrono::seconds(20))) {
    throw std::runtime_error("connector did not subscribe:\n" + connector.log().tail());
  }
  mqtt_test::MqttPublisher publisher(mosquitto.port(), "bench-connector-publisher");
  const auto start = Clock::now();
  std::thread publishing([&] {
    for (std::size_t n = 0; n < messages; ++n)
      publisher.publish("bench/s" + std::to_string(n % 8), payload(n, payload_bytes), qos);
  });
  const auto through_connector = consume(*consumer, messages, start, "connector", !reliable);
  publishing.join();
  print(through_connector);
  std::printf(
      "connector  mqtt_messages_received_total=%.0f\n",
      chaos::scrape_metric(connector.http_port(), "mqtt_messages_received_total").value_or(-1));
  const auto wait_sum = chaos::scrape_metric(connector.http_port(), "mqtt_store_wait_seconds_sum");
  const auto wait_count =
      chaos::scrape_metric(connector.http_port(), "mqtt_store_wait_seconds_count");
  if (wait_sum && wait_count && *wait_count > 0) {
    std::printf("connector  mean_store_wait_ms=%.3f (receipt to Danube acknowledgement, QoS 1/2)\n",
                *wait_sum / *wait_count * 1000.0);
  }
  std::printf("ratio connector/mosquitto=%.3f connector/client=%.3f\n",
              through_connector.rate() / bare.rate(), through_connector.rate() / direct.rate());
  connector.signal(SIGTERM);
  connector.wait(std::chrono::seconds(20));
  return 0;
}
