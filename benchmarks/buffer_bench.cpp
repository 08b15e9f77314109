// danube-buffer-bench: how fast a sink takes a backlog off a broker that loses what lags (the
// embedded broker in its danube_0_15 mode: window W, 256-entry live tail), with and without the
// sink buffer, when the connector is slower than the producer.
//
//   danube-buffer-bench [--count N] [--rate MSGS_PER_S] [--record-us US] [--max-unacked W]
//                       [--size BYTES]
//
// A producer publishes N messages at a steady rate into one reliable partition; a sink runtime
// (Exclusive) processes them at `record-us` per record. Per mode it reports:
//   broker_drain_s  first publish until every message is acked or skipped by the broker
//   broker_rate     messages acked per second over that time (how fast the backlog leaves)
//   lost            messages the broker skipped (the sink reports the same count)
//   connector_s     first publish until the connector processed everything it received
//   p50/p99 ms      publish to processing
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <caf/all.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench_stats.hpp"
#include "danube/client/client.hpp"
#include "danube/connect/connect.hpp"
#include "danube/runtime/embedding.hpp"
#include "danube/testkit/embedded_broker.hpp"
#include "processed_records.hpp"

namespace {

using namespace danube;
using Clock = std::chrono::steady_clock;
using bench::now_ms;
using bench::percentile;

struct Settings {
  std::size_t count = 10'000;
  std::size_t rate = 800;
  std::uint64_t record_us = 2'000;
  std::uint32_t max_unacked = 10;
  std::size_t size = 100;
};

Settings parse(int argc, char** argv) {
  Settings settings;
  CLI::App app(
      "danube-buffer-bench: a slow sink on a lossy broker, without and with [sink_buffer]");
  app.add_option("--count", settings.count)->check(CLI::PositiveNumber);
  app.add_option("--rate", settings.rate)->check(CLI::PositiveNumber);
  app.add_option("--record-us", settings.record_us);
  app.add_option("--max-unacked", settings.max_unacked)->check(CLI::PositiveNumber);
  app.add_option("--size", settings.size);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error) == 0 ? 0 : 2);
  }
  return settings;
}

// A connector that takes `record_us` per record waiting, as a sink writing to a database or
// an HTTP endpoint does, and keeps the latency from publish to processing.
class SlowSink : public connect::SinkConnector {
 public:
  using Shared = bench::ProcessedRecords;
  SlowSink(std::string topic, std::shared_ptr<Shared> shared, std::chrono::microseconds cost)
      : topic_(std::move(topic)), shared_(std::move(shared)), cost_(cost) {}
  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ConsumerConfig> consumer_configs() override {
    return {{topic_, "bench-buffer", "bench-buffer", connect::SubscriptionType::exclusive, {}, {}}};
  }
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    std::this_thread::sleep_for(cost_ * static_cast<std::int64_t>(records.size()));
    shared_->add(records);
    return connect::BatchResult::all_ok(records.size());
  }

 private:
  std::string topic_;
  std::shared_ptr<Shared> shared_;
  std::chrono::microseconds cost_;
};

void produce_at_rate(const client::DanubeClient& client, const std::string& topic,
                     const Settings& s) {
  client::ProducerOptions options;
  options.topic = topic;
  options.name = "bench-paced-feeder";
  options.dispatch = client::Dispatch::reliable;
  auto producer = std::move(client.create_producer(options)).value();
  const std::string payload(s.size, 'x');
  const auto start = Clock::now();
  for (std::size_t i = 0; i < s.count; ++i) {
    // Message i is due at start + i / rate.
    const auto due = start + std::chrono::microseconds(i * 1'000'000 / s.rate);
    if (due > Clock::now()) std::this_thread::sleep_until(due);
    client::OutgoingMessage message;
    message.payload = payload;
    producer->send_async(std::move(message), {});
  }
  producer->flush(std::chrono::minutes(10));
}

void run_mode(caf::actor_system& system, testkit::EmbeddedBroker& broker,
              const client::DanubeClient& client, const Settings& s, bool buffered) {
  const std::string mode = buffered ? "buffered" : "unbuffered";
  const std::string topic = "/default/bench-" + mode;
  broker.create_topic(topic, true);
  connect::ConnectorConfig config;
  config.danube_service_url = broker.service_url();
  config.connector_name = "bench-" + mode;
  config.http.enabled = false;
  config.processing.batch_size = 500;
  config.processing.batch_timeout_ms = 20;
  config.offsets.state_dir = std::filesystem::temp_directory_path() / ("danube-bench-" + mode);
  std::filesystem::remove_all(config.offsets.state_dir);
  config.sink_buffer.enabled = buffered;
  auto shared = std::make_shared<SlowSink::Shared>();
  auto runtime = runtime::spawn_sink(
      system, std::make_unique<SlowSink>(topic, shared, std::chrono::microseconds(s.record_us)),
      config);
  broker.wait_until(
      [&] {
        const auto sub = broker.subscription(topic, "bench-buffer");
        return sub && sub->connected_consumers > 0;
      },
      std::chrono::seconds(30));

  const auto start = Clock::now();
  std::thread feeder([&] { produce_at_rate(client, topic, s); });
  testkit::SubscriptionSnapshot snapshot;
  broker.wait_until(
      [&] {
        snapshot = *broker.subscription(topic, "bench-buffer");
        return snapshot.cursor + snapshot.acked_beyond_cursor + snapshot.skipped_by_lag >= s.count;
      },
      std::chrono::minutes(10));
  const auto drained = Clock::now();
  feeder.join();
  const auto acked = snapshot.cursor + snapshot.acked_beyond_cursor;
  shared->wait_for(acked);
  caf::scoped_actor self{system};
  runtime::RuntimeStatus status;
  self->request(runtime, caf::infinite, runtime::drain_atom::value)
      .receive([&](const runtime::RuntimeStatus& result) { status = result; },
               [](const caf::error&) {});
  const double drain_s = std::chrono::duration<double>(drained - start).count();
  const double connector_s = std::chrono::duration<double>(shared->last() - start).count();
  std::printf(
      "{\"mode\":\"%s\",\"count\":%zu,\"rate\":%zu,\"record_us\":%llu,\"broker_drain_s\":%.3f,"
      "\"broker_rate\":%.0f,\"lost\":%llu,\"reported_lost\":%llu,\"connector_s\":%.3f,"
      "\"p50_ms\":%.1f,\"p99_ms\":%.1f}\n",
      mode.c_str(), s.count, s.rate, static_cast<unsigned long long>(s.record_us), drain_s,
      static_cast<double>(acked) / drain_s,
      static_cast<unsigned long long>(snapshot.skipped_by_lag),
      static_cast<unsigned long long>(status.lost), connector_s,
      percentile(shared->latencies_ms(), 50), percentile(shared->latencies_ms(), 99));
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  testkit::BrokerOptions broker_options;
  broker_options.dispatch_fidelity = testkit::DispatchFidelity::danube_0_15;
  broker_options.max_unacked_messages = settings.max_unacked;
  testkit::EmbeddedBroker broker(broker_options);
  broker.start();
  client::ClientOptions client_options;
  client_options.service_url = broker.service_url();
  const auto client = client::DanubeClient::create(client_options).value();
  std::fprintf(stderr,
               "embedded broker %s (danube-0.15 dispatch), max_unacked=%u, %zu x %zu B at %zu "
               "msgs/s, connector %llu us per record\n",
               broker.service_url().c_str(), settings.max_unacked, settings.count, settings.size,
               settings.rate, static_cast<unsigned long long>(settings.record_us));
  caf::actor_system_config config;
  config.set("scheduler.max-threads", 2);
  config.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system system{config};
  run_mode(system, broker, client, settings, false);
  run_mode(system, broker, client, settings, true);
  return 0;
}
