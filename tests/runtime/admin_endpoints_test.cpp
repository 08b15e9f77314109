// GET /status, POST /pause and POST /resume against a sink and a source runtime on the embedded
// broker, served by the HTTP server the way the run helpers wire it: the counts /status shows
// are what was sent and processed; a paused sink takes nothing from the broker's stream (the
// broker's window fills and stays full) and a paused source calls poll() no more, while what
// is in flight finishes; resuming delivers everything once; the admin token is enforced.
#include <prometheus/registry.h>

#include <boost/test/unit_test.hpp>
#include <deque>
#include <nlohmann/json.hpp>

#include "danube/services/http_server.hpp"
#include "http_client.hpp"
#include "runtime_paths_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace std::chrono_literals;
using danube::connect::test::http_request;
using nlohmann::json;

namespace {

// A runtime served by an HttpServer on loopback, as run_sink/run_source serve theirs. The
// server goes before the actor system: its admin handler asks the system.
struct Served {
  Served(caf::actor_system& system, connector_actor runtime,
         std::shared_ptr<services::HealthState> health, std::optional<std::string> token = {}) {
    services::HttpServerOptions options;
    options.bind_address = "127.0.0.1";
    options.port = 0;
    options.admin_token = std::move(token);
    server = std::make_unique<services::HttpServer>(
        options, std::make_shared<prometheus::Registry>(), health);
    server->attach_admin(make_admin_handler(system, std::move(runtime), std::move(health)));
  }

  connect::test::HttpResponse get(const std::string& path) const {
    return http_request(server->port(), "GET", path);
  }
  connect::test::HttpResponse post(const std::string& path,
                                   const std::vector<std::string>& headers = {}) const {
    return http_request(server->port(), "POST", path, headers);
  }
  json status() const {
    const auto reply = get("/status");
    BOOST_TEST_REQUIRE(reply.status == 200, reply.body);
    return json::parse(reply.body);
  }
  // Polls /status until `condition` holds for its document (the runtime's counts change on its
  // own threads; there is no event to wait on from outside).
  bool status_until(const std::function<bool(const json&)>& condition,
                    std::chrono::milliseconds timeout = 30s) const {
    return eventually([&] { return condition(status()); }, timeout);
  }

  std::unique_ptr<services::HttpServer> server;
};

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(options).value());
  }

  // The runtime's own services, so that the test's HTTP server shows its health.
  RuntimeServices services(const std::string& name) {
    RuntimeServices result;
    result.health = std::make_shared<services::HealthState>(name);
    result.metrics = std::make_shared<services::ConnectorMetrics>(name);
    return result;
  }

  testkit::EmbeddedBroker broker;  // max_unacked_messages 10: the window of a subscription
  std::optional<client::DanubeClient> client;
  caf::actor_system system{system_config()};
  paths::RuntimeGuard runtimes{system};  // a failed check does not leave a runtime running
};

std::uint64_t count_of(const json& document, const std::string& topic, const std::string& key) {
  return document["topics"][topic][key].get<std::uint64_t>();
}

// Emits what the test queues, one record per queued payload, to /default/admin-feed, and
// counts its poll() and health_check() calls (both run on the runtime's driver thread).
class QueueSource : public connect::SourceConnector {
 public:
  static constexpr const char* kTopic = "/default/admin-feed";

  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::string> queued;
    std::uint64_t next_offset = 0;
    std::uint64_t polls = 0;
    std::uint64_t health_checks = 0;  // calls begun

    void queue(const std::string& prefix, int count) {
      std::lock_guard lock(mutex);
      for (int i = 0; i < count; ++i)
        queued.push_back(prefix + std::to_string(i));
    }
  };

  explicit QueueSource(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig(kTopic, 0, true)};
  }
  std::vector<connect::SourceEnvelope> poll() override {
    std::lock_guard lock(shared_->mutex);
    ++shared_->polls;
    std::vector<connect::SourceEnvelope> batch;
    while (!shared_->queued.empty() && batch.size() < 20) {
      batch.emplace_back(connect::SourceRecord::from_string(kTopic, shared_->queued.front()),
                         connect::Offset("queue", shared_->next_offset++));
      shared_->queued.pop_front();
    }
    shared_->changed.notify_all();
    return batch;
  }
  void health_check() override {
    std::lock_guard lock(shared_->mutex);
    ++shared_->health_checks;
    shared_->changed.notify_all();
  }

 private:
  std::shared_ptr<Shared> shared_;
};

// A streaming source: a thread of its own sends what the test queues through the runtime's
// SourceSender, which blocks while the runtime's channel is full.
class StreamingQueueSource : public connect::SourceConnector {
 public:
  static constexpr const char* kTopic = "/default/admin-stream";

  struct Shared {
    std::mutex mutex;
    std::condition_variable changed;
    std::deque<std::string> queued;
    std::uint64_t sent = 0;
    std::uint64_t blocked_sends = 0;  // sends that waited for room

    void queue(const std::string& prefix, int count) {
      std::lock_guard lock(mutex);
      for (int i = 0; i < count; ++i)
        queued.push_back(prefix + std::to_string(i));
      changed.notify_all();
    }
  };

  explicit StreamingQueueSource(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}
  ~StreamingQueueSource() override { stop(); }

  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig(kTopic, 0, true)};
  }
  connect::SourceMode mode() const override { return connect::SourceMode::streaming; }
  void start_streaming(connect::SourceSender sender) override {
    stop();
    worker_ = std::jthread([sender, shared = shared_](std::stop_token stop) {
      while (!stop.stop_requested()) {
        std::string payload;
        {
          std::unique_lock lock(shared->mutex);
          if (!shared->changed.wait_for(lock, 20ms, [&] { return !shared->queued.empty(); })) {
            continue;
          }
          payload = shared->queued.front();
        }
        const connect::SourceEnvelope envelope(connect::SourceRecord::from_string(kTopic, payload));
        bool waited = false;
        while (true) {
          const auto status = sender.send_for(envelope, 20ms);
          if (status == connect::SendStatus::sent) break;
          if (status == connect::SendStatus::closed || stop.stop_requested()) return;
          if (!waited) {
            waited = true;
            std::lock_guard lock(shared->mutex);
            ++shared->blocked_sends;
            shared->changed.notify_all();
          }
        }
        std::lock_guard lock(shared->mutex);
        shared->queued.pop_front();
        ++shared->sent;
        shared->changed.notify_all();
      }
    });
  }
  void shutdown() override { stop(); }

 private:
  void stop() {
    if (!worker_.joinable()) return;
    worker_.request_stop();
    worker_.join();
  }

  std::shared_ptr<Shared> shared_;
  std::jthread worker_;
};

bool wait_for(QueueSource::Shared& shared,
              const std::function<bool(const QueueSource::Shared&)>& condition,
              std::chrono::milliseconds timeout = 30s) {
  std::unique_lock lock(shared.mutex);
  return shared.changed.wait_for(lock, timeout, [&] { return condition(shared); });
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_paused_sink_takes_nothing_from_the_broker_and_resumes_without_loss,
                        Fixture) {
  const std::string topic = "/default/admin-orders";
  broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto services = this->services("admin-sink");
  auto runtime = runtimes.add(spawn_sink(
      system, std::make_unique<RecordingSink>(std::vector{subscription(topic, "admin")}, shared),
      fast_config(broker.service_url(), "admin-sink"), services));
  Served http(system, runtime, services.health);
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        auto sub = broker.subscription(topic, "admin");
        return sub && sub->connected_consumers == 1;
      },
      20s));

  // /status counts what was sent and processed.
  produce(*client, topic, 100, "first-");
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() == 100; }));
  BOOST_REQUIRE(http.status_until([&](const json& s) {
    return count_of(s, topic, "acked") == 100 && count_of(s, topic, "in_flight") == 0;
  }));
  // Ready once the health monitor has seen the broker connection (it looks every second).
  BOOST_REQUIRE(http.status_until([](const json& s) { return s["health"]["ready"] == true; }));
  auto status = http.status();
  BOOST_TEST(status["connector"] == "admin-sink");
  BOOST_TEST(status["kind"] == "sink");
  BOOST_TEST(status["state"] == "running");
  BOOST_TEST(status["paused"] == false);
  BOOST_TEST(status["restarts"] == 0);
  BOOST_TEST(status["last_error"].is_null());
  BOOST_TEST(status["uptime_seconds"].get<std::int64_t>() >= 0);
  BOOST_TEST(status["health"]["connected"] == true);
  BOOST_TEST(count_of(status, topic, "received") == 100u);
  BOOST_TEST(count_of(status, topic, "processed") == 100u);
  BOOST_TEST(count_of(status, topic, "dead_lettered") == 0u);
  BOOST_TEST(count_of(status, topic, "held") == 0u);
  BOOST_TEST(status["totals"]["received"] == 100);
  BOOST_TEST(status["totals"]["processed"] == 100);
  BOOST_TEST(status["totals"]["acked"] == 100);
  BOOST_TEST(status["totals"]["in_flight"] == 0);
  BOOST_TEST(!status.contains("lag"));  // nothing the broker tells gives it

  // Pause (twice: idempotent). Not ready, still live.
  for (int i = 0; i < 2; ++i) {
    const auto paused = http.post("/pause");
    BOOST_TEST_REQUIRE(paused.status == 200, paused.body);
    BOOST_TEST(json::parse(paused.body)["state"] == "paused");
    BOOST_TEST(json::parse(paused.body)["paused"] == true);
  }
  BOOST_TEST(http.get("/health").status == 200);
  BOOST_TEST(json::parse(http.get("/health").body)["paused"] == true);
  BOOST_TEST(http.get("/ready").status == 503);  // connected, but paused
  BOOST_TEST(http.status()["health"]["connected"] == true);

  // Published while paused: the broker delivers its window of 10 to this process, where the
  // paused consumer leaves them in the client's buffer. `held` is refreshed by the consumer
  // actor itself, so seeing all 10 held proves that it handled them and took none; a consumer
  // that kept pulling would have taken them and never shown 10 held.
  produce(*client, topic, 50, "second-");
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        auto sub = broker.subscription(topic, "admin");
        return sub && sub->in_flight == 10;
      },
      20s));
  BOOST_REQUIRE(http.status_until([&](const json& s) { return count_of(s, topic, "held") == 10; }));
  status = http.status();
  BOOST_TEST(count_of(status, topic, "received") == 100u);
  BOOST_TEST(count_of(status, topic, "processed") == 100u);
  BOOST_TEST(status["totals"]["held"] == 10);
  BOOST_TEST(broker.subscription(topic, "admin")->in_flight == 10u);  // nothing acked meanwhile
  {
    std::lock_guard lock(shared->mutex);
    BOOST_TEST(shared->processed.size() == 100u);
  }

  // Resume (twice): all 50 arrive, once each.
  for (int i = 0; i < 2; ++i) {
    const auto resumed = http.post("/resume");
    BOOST_TEST_REQUIRE(resumed.status == 200, resumed.body);
    BOOST_TEST(json::parse(resumed.body)["state"] == "running");
  }
  BOOST_REQUIRE(wait_for(*shared, [](const auto& s) { return s.processed.size() >= 150; }));
  BOOST_REQUIRE(http.status_until([&](const json& s) {
    return count_of(s, topic, "acked") == 150 && count_of(s, topic, "in_flight") == 0;
  }));
  status = http.status();
  BOOST_TEST(count_of(status, topic, "received") == 150u);
  BOOST_TEST(count_of(status, topic, "processed") == 150u);
  BOOST_TEST(count_of(status, topic, "held") == 0u);
  BOOST_TEST(http.get("/ready").status == 200);

  const RuntimeStatus final_status = drain(system, runtime);
  BOOST_TEST(final_status.state == "stopped");
  BOOST_TEST(final_status.processed == 150u);
  const auto payloads = processed_payloads(*shared);
  BOOST_TEST(payloads.size() == 150u);
  BOOST_TEST(missing(payloads, "first-", 100) == 0u);
  BOOST_TEST(missing(payloads, "second-", 50) == 0u);
  std::lock_guard lock(shared->mutex);
  BOOST_TEST(shared->processed.size() == 150u);  // none twice
}

BOOST_FIXTURE_TEST_CASE(a_paused_source_polls_no_more_and_resumes_without_loss, Fixture) {
  broker.create_topic(QueueSource::kTopic, true);
  auto shared = std::make_shared<QueueSource::Shared>();
  auto config = fast_config(broker.service_url(), "admin-source");
  config.processing.poll_interval_ms = 5;
  config.processing.health_check_interval_ms = 100;
  // The probes only mark the driver's progress here: a slow answer on a loaded machine (seen
  // under TSan with both cores busy) must not stop the source as unhealthy.
  config.processing.health_check_failure_threshold = 1000;  // the most it takes
  config.offsets.commit_interval_ms = 20;
  auto services = this->services("admin-source");
  auto runtime =
      runtimes.add(spawn_source(system, std::make_unique<QueueSource>(shared), config, services));
  Served http(system, runtime, services.health);
  const std::string topic = QueueSource::kTopic;

  shared->queue("first-", 30);
  BOOST_REQUIRE(broker.wait_for_counters(
      topic, [](const testkit::TopicCounters& c) { return c.published == 30; }, 30s));
  BOOST_REQUIRE(http.status_until([&](const json& s) {
    return s["topics"].contains(topic) && count_of(s, topic, "published") == 30 &&
           count_of(s, topic, "in_flight") == 0;
  }));
  auto status = http.status();
  BOOST_TEST(status["kind"] == "source");
  BOOST_TEST(status["state"] == "running");
  BOOST_TEST(count_of(status, topic, "received") == 30u);
  BOOST_TEST(status["totals"]["published"] == 30);
  BOOST_TEST(!status["topics"][topic].contains("acked"));  // a sink's count

  const auto paused = http.post("/pause");
  BOOST_TEST_REQUIRE(paused.status == 200, paused.body);
  BOOST_TEST(json::parse(paused.body)["state"] == "paused");

  // The driver thread runs poll() and health_check() in the order their messages arrive, and
  // the health monitor sends a probe only after the last one answered. So once the second
  // health check begun after the pause's answer runs, the pause has reached the driver.
  std::uint64_t polls_after_pause = 0;
  {
    std::unique_lock lock(shared->mutex);
    const auto begun = shared->health_checks;
    BOOST_REQUIRE(
        shared->changed.wait_for(lock, 30s, [&] { return shared->health_checks >= begun + 2; }));
    polls_after_pause = shared->polls;
  }
  // Records queued now would be polled within poll_interval_ms (5 ms) by a running driver, long
  // before the third probe from now (100 ms apart) reaches it.
  shared->queue("second-", 40);
  {
    std::unique_lock lock(shared->mutex);
    const auto begun = shared->health_checks;
    BOOST_REQUIRE(
        shared->changed.wait_for(lock, 30s, [&] { return shared->health_checks >= begun + 3; }));
    BOOST_TEST(shared->polls == polls_after_pause);
    BOOST_TEST(shared->queued.size() == 40u);
  }
  status = http.status();
  BOOST_TEST(count_of(status, topic, "received") == 30u);
  BOOST_TEST(count_of(status, topic, "published") == 30u);
  BOOST_TEST(broker.counters(topic)->published == 30u);

  const auto resumed = http.post("/resume");
  BOOST_TEST_REQUIRE(resumed.status == 200, resumed.body);
  BOOST_TEST(json::parse(resumed.body)["state"] == "running");
  BOOST_REQUIRE(broker.wait_for_counters(
      topic, [](const testkit::TopicCounters& c) { return c.published >= 70; }, 30s));
  BOOST_REQUIRE(http.status_until([&](const json& s) {
    return count_of(s, topic, "published") == 70 && count_of(s, topic, "in_flight") == 0;
  }));
  BOOST_TEST(wait_for(*shared, [](const auto& s) { return s.queued.empty(); }));

  const RuntimeStatus final_status = drain(system, runtime);
  BOOST_TEST(final_status.state == "stopped");
  BOOST_TEST(final_status.processed == 70u);
  BOOST_TEST(broker.counters(topic)->published == 70u);  // every record once
}

BOOST_FIXTURE_TEST_CASE(a_paused_streaming_source_leaves_its_channel_unread, Fixture) {
  const std::string topic = StreamingQueueSource::kTopic;
  broker.create_topic(topic, true);
  auto shared = std::make_shared<StreamingQueueSource::Shared>();
  auto config = fast_config(broker.service_url(), "admin-stream");  // channel: batch_size, 100
  config.offsets.commit_interval_ms = 20;
  auto services = this->services("admin-stream");
  auto runtime = runtimes.add(
      spawn_source(system, std::make_unique<StreamingQueueSource>(shared), config, services));
  Served http(system, runtime, services.health);

  shared->queue("first-", 20);
  BOOST_REQUIRE(broker.wait_for_counters(
      topic, [](const testkit::TopicCounters& c) { return c.published == 20; }, 30s));
  BOOST_REQUIRE(http.status_until([&](const json& s) {
    return count_of(s, topic, "published") == 20 && count_of(s, topic, "in_flight") == 0;
  }));

  const auto paused = http.post("/pause");
  BOOST_TEST_REQUIRE(paused.status == 200, paused.body);
  // The connector fills the channel (100 records) and then waits in send(). `held` is what the
  // router itself found in the channel while paused: a router that kept reading would never
  // let it fill.
  shared->queue("second-", 150);
  BOOST_REQUIRE(http.status_until([](const json& s) { return s["totals"]["held"] == 100; }));
  {
    std::unique_lock lock(shared->mutex);
    BOOST_REQUIRE(shared->changed.wait_for(lock, 30s, [&] { return shared->blocked_sends > 0; }));
    BOOST_TEST(shared->sent == 120u);
  }
  auto status = http.status();
  BOOST_TEST(count_of(status, topic, "received") == 20u);
  BOOST_TEST(count_of(status, topic, "published") == 20u);
  BOOST_TEST(broker.counters(topic)->published == 20u);

  const auto resumed = http.post("/resume");
  BOOST_TEST_REQUIRE(resumed.status == 200, resumed.body);
  BOOST_REQUIRE(broker.wait_for_counters(
      topic, [](const testkit::TopicCounters& c) { return c.published >= 170; }, 30s));
  BOOST_REQUIRE(http.status_until([&](const json& s) {
    return count_of(s, topic, "published") == 170 && s["totals"]["held"] == 0;
  }));

  const RuntimeStatus final_status = drain(system, runtime);
  BOOST_TEST(final_status.state == "stopped");
  BOOST_TEST(broker.counters(topic)->published == 170u);  // every record once
}

BOOST_FIXTURE_TEST_CASE(pause_and_resume_need_the_admin_token_when_one_is_set, Fixture) {
  const std::string topic = "/default/admin-guarded";
  broker.create_topic(topic, true);
  auto shared = std::make_shared<RecordingSink::Shared>();
  auto services = this->services("admin-guarded");
  auto runtime = runtimes.add(spawn_sink(
      system, std::make_unique<RecordingSink>(std::vector{subscription(topic, "guarded")}, shared),
      fast_config(broker.service_url(), "admin-guarded"), services));
  Served http(system, runtime, services.health, "ops-token-1");
  BOOST_REQUIRE(http.status_until([](const json& s) { return s["state"] == "running"; }));

  BOOST_TEST(http.post("/pause").status == 401);
  BOOST_TEST(http.post("/pause", {"Authorization: Bearer ops-token-2"}).status == 401);
  BOOST_TEST(http.post("/pause", {"Authorization: Bearer ops-token-1x"}).status == 401);
  BOOST_TEST(http.status()["paused"] == false);  // refused requests changed nothing

  const auto paused = http.post("/pause", {"Authorization: Bearer ops-token-1"});
  BOOST_TEST_REQUIRE(paused.status == 200, paused.body);
  BOOST_TEST(json::parse(paused.body)["paused"] == true);
  BOOST_TEST(http.status()["state"] == "paused");  // /status needs no token
  BOOST_TEST(http.post("/resume").status == 401);
  BOOST_TEST(http.status()["paused"] == true);
  const auto resumed = http.post("/resume", {"authorization: bearer ops-token-1"});
  BOOST_TEST_REQUIRE(resumed.status == 200, resumed.body);
  BOOST_TEST(json::parse(resumed.body)["state"] == "running");

  // Once the runtime has stopped there is nothing to pause: 503.
  caf::scoped_actor self{system};
  self->send(runtime, drain_atom::value);
  self->wait_for(runtime);
  const auto late = http.post("/pause", {"Authorization: Bearer ops-token-1"});
  BOOST_TEST(late.status == 503);
}
