// The sink buffer in the runtime, against the embedded broker in its danube_0_15 mode (a window
// of 10 unacked messages and a 256-entry live tail): a sink whose connector is stuck keeps
// acking what it buffers, so the broker skips nothing; what the connector has not finished
// when the sink stops is processed by the next run, once.
#include <boost/test/unit_test.hpp>
#include <thread>

#include "danube/services/metrics.hpp"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

constexpr std::uint32_t kWindow = 10;
// Messages per produce step: below window + live tail, so a subscription that acks what it
// gets between steps cannot be skipped, however slowly it acks.
constexpr int kStep = 100;

struct Fixture {
  Fixture() : broker(faithful_options()) {
    broker.start();
    client::ClientOptions client_options;
    client_options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(client_options).value());
  }
  static testkit::BrokerOptions faithful_options() {
    testkit::BrokerOptions options;
    options.dispatch_fidelity = testkit::DispatchFidelity::danube_0_15;
    options.max_unacked_messages = kWindow;
    return options;
  }
  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};
};

connect::ConnectorConfig buffered_config(const std::string& service_url, const std::string& name) {
  auto config = fast_config(service_url, name);
  config.sink_buffer.enabled = true;
  config.sink_buffer.segment_bytes = 64 << 10;  // several segments for a few thousand messages
  return config;
}

// Publishes `count` messages in steps, each once the subscription has acked everything before
// it. Returns false when the broker's cursor stops short (nothing acks while the connector is
// held).
bool produce_acked_in_steps(Fixture& fixture, const std::string& topic,
                            const std::string& subscription, int count, const std::string& prefix,
                            std::chrono::milliseconds step_timeout = 30s) {
  for (int done = 0; done < count; done += kStep) {
    const int step = std::min(kStep, count - done);
    client::ProducerOptions options;
    options.topic = topic;
    options.name = "step-producer";
    options.dispatch = client::Dispatch::reliable;
    auto producer = fixture.client->create_producer(options).value();
    for (int i = done; i < done + step; ++i) {
      client::OutgoingMessage message;
      message.payload = prefix + std::to_string(i);
      producer->send_async(std::move(message), {});
    }
    if (!producer->flush(60s)) return false;
    const auto target = static_cast<std::uint64_t>(done + step);
    if (!fixture.broker.wait_until(
            [&] { return fixture.broker.subscription(topic, subscription)->cursor >= target; },
            step_timeout)) {
      return false;
    }
  }
  return true;
}

std::string scrape() {
  return services::render_metrics(*services::default_metrics_registry());
}

// The value of the sample `name{connector="<connector>",topic="<topic>"}` in a scrape, or -1.
double sample(const std::string& text, const std::string& name, const std::string& connector,
              const std::string& topic) {
  const std::string prefix = name + "{connector=\"" + connector + "\",topic=\"" + topic + "\"} ";
  const auto at = text.find(prefix);
  if (at == std::string::npos) return -1;
  return std::stod(text.substr(at + prefix.size()));
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_stuck_connector_loses_nothing_behind_a_buffer) {
  Fixture fixture;
  const std::string topic = "/default/buffered-stuck";
  fixture.broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto gate = std::make_shared<GatedSink::Gate>();
  gate->close();
  const auto config = buffered_config(fixture.broker.service_url(), "buffered-stuck");
  auto runtime = fixture.runtimes.add(spawn_sink(
      fixture.system,
      std::make_unique<GatedSink>(std::vector{subscription(topic, "stuck")}, shared, gate),
      config));
  BOOST_REQUIRE(subscribed(fixture.broker, topic, "stuck"));

  // The connector holds its first batch; the broker sees every message acked all the same.
  BOOST_REQUIRE(produce_acked_in_steps(fixture, topic, "stuck", 2000, "m-"));
  BOOST_REQUIRE(gate->wait_blocked(30s));
  BOOST_TEST(fixture.broker.subscription(topic, "stuck")->skipped_by_lag == 0u);
  BOOST_TEST(sample(scrape(), "danube_connector_sink_buffer_messages", "buffered-stuck", topic) ==
             2000.0);

  gate->open();
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 2000; }));
  const auto drained = drain_and_wait(fixture.system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.lost == 0u);
  BOOST_TEST(missing(processed_payloads(*shared), "m-", 2000) == 0u);
  BOOST_TEST(processed_payloads(*shared).size() == 2000u);
  BOOST_TEST(fixture.broker.subscription(topic, "stuck")->skipped_by_lag == 0u);
  BOOST_TEST(!std::filesystem::exists(config.gap_file()));
}

BOOST_AUTO_TEST_CASE(without_the_buffer_the_same_stuck_connector_stalls_the_subscription) {
  // The control: nothing is acked while the connector is held, so the broker's cursor stays
  // within the first window and the next step could not be published without loss.
  Fixture fixture;
  const std::string topic = "/default/unbuffered-stuck";
  fixture.broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto gate = std::make_shared<GatedSink::Gate>();
  gate->close();
  auto config = buffered_config(fixture.broker.service_url(), "unbuffered-stuck");
  config.sink_buffer.enabled = false;
  auto runtime = fixture.runtimes.add(spawn_sink(
      fixture.system,
      std::make_unique<GatedSink>(std::vector{subscription(topic, "stuck")}, shared, gate),
      config));
  BOOST_REQUIRE(subscribed(fixture.broker, topic, "stuck"));
  BOOST_TEST(!produce_acked_in_steps(fixture, topic, "stuck", kStep, "m-", 2s));
  BOOST_TEST(fixture.broker.subscription(topic, "stuck")->cursor < kWindow + 1u);
  gate->open();
  BOOST_REQUIRE(drain_and_wait(fixture.system, runtime));
}

BOOST_AUTO_TEST_CASE(what_a_stopped_sink_left_in_its_buffer_is_processed_by_the_next_run_once) {
  Fixture fixture;
  const std::string topic = "/default/buffered-restart";
  fixture.broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto gate = std::make_shared<GatedSink::Gate>();
  gate->close();
  auto config = buffered_config(fixture.broker.service_url(), "buffered-restart");
  config.delivery.max_inflight_records = 50;  // at most 50 leave the buffer at a time
  const auto subscriptions = std::vector{subscription(topic, "restart")};
  {
    auto runtime = fixture.runtimes.add(spawn_sink(
        fixture.system, std::make_unique<GatedSink>(subscriptions, shared, gate), config));
    BOOST_REQUIRE(subscribed(fixture.broker, topic, "restart"));
    BOOST_REQUIRE(produce_acked_in_steps(fixture, topic, "restart", 500, "m-"));
    // Stop while the connector is behind: once the drain has begun, what it has in hand
    // finishes and the rest stays in the buffer.
    std::optional<DrainResult> drained;
    std::thread drainer([&] { drained = drain_and_wait(fixture.system, runtime); });
    const bool draining =
        eventually([&] { return status_of(fixture.system, runtime).state == "draining"; });
    gate->open();
    drainer.join();
    BOOST_REQUIRE(draining);
    BOOST_REQUIRE(drained);
  }
  const auto first_run = processed_payloads(*shared).size();
  BOOST_TEST_MESSAGE("first run processed " << first_run << " of 500");
  BOOST_TEST(first_run < 500u);
  BOOST_REQUIRE(fixture.broker.wait_until(
      [&] { return fixture.broker.subscription(topic, "restart")->connected_consumers == 0; },
      30s));

  auto runtime = fixture.runtimes.add(
      spawn_sink(fixture.system, std::make_unique<RecordingSink>(subscriptions, shared), config));
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 500; }));
  const auto replayed =
      sample(scrape(), "danube_connector_sink_buffer_replayed_total", "buffered-restart", topic);
  const auto drained = drain_and_wait(fixture.system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(replayed == static_cast<double>(500 - first_run));
  BOOST_TEST(missing(processed_payloads(*shared), "m-", 500) == 0u);
  {
    std::lock_guard lock(shared->mutex);
    BOOST_TEST(shared->processed.size() == 500u);  // nothing twice
  }
  BOOST_TEST(drained->status.lost == 0u);
}
