// danube-runtime-bench: end-to-end throughput and latency of the actor runtime against the
// embedded broker, next to the bare client doing the same work, so the runtime's own cost shows
// as a ratio.
//
//   danube-runtime-bench [--count N] [--partitions P] [--max-unacked W] [--size BYTES]
//                        [--scheduler-policy sharing|stealing] [--scheduler-threads T]
//                        [--subscription exclusive|failover]
//
// The sink subscribes Exclusive, which tracks continuity (an offsets file written before every
// ack batch); failover has the same dispatch with one consumer and no tracking, so the two
// compare that cost.
//
// sink:   a producer publishes N messages; a sink runtime (spawn_sink) receives, processes
//         (counts) and acks them. Latency: publish time to process time.
// client: the same N messages received and acked by a bare client consumer.
// source: a polling source emits N records; the runtime publishes them (strict order).
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
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
  std::size_t count = 100'000;
  std::size_t partitions = 4;
  std::uint32_t max_unacked = 10;
  std::size_t size = 100;
  bool work_stealing = false;         // --scheduler-policy stealing; sharing is what run_sink uses
  std::size_t scheduler_threads = 1;  // what run_sink chooses without a sink buffer
  connect::SubscriptionType sink_subscription = connect::SubscriptionType::exclusive;
  std::vector<std::string> phases = {"client", "sink", "source"};  // --only
};

Settings parse(int argc, char** argv) {
  Settings settings;
  CLI::App app(
      "danube-runtime-bench: the runtime's sink and source pipelines against a bare client");
  app.add_option("--count", settings.count)->check(CLI::PositiveNumber);
  app.add_option("--partitions", settings.partitions);
  app.add_option("--max-unacked", settings.max_unacked)->check(CLI::PositiveNumber);
  app.add_option("--size", settings.size);
  app.add_option("--only", settings.phases,
                 "run only these phases (client, sink, source), e.g. under callgrind")
      ->check(CLI::IsMember({"client", "sink", "source"}));
  std::string scheduler = "sharing";
  app.add_option("--scheduler-policy", scheduler)->check(CLI::IsMember({"sharing", "stealing"}));
  app.add_option("--scheduler-threads", settings.scheduler_threads, "the actor system's workers")
      ->check(CLI::PositiveNumber);
  std::string subscription = "Exclusive";
  app.add_option("--subscription", subscription)->check([](const std::string& text) {
    return connect::parse_subscription_type(text) ? std::string() : "unknown subscription type";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error) == 0 ? 0 : 2);
  }
  settings.work_stealing = scheduler == "stealing";
  settings.sink_subscription = *connect::parse_subscription_type(subscription);
  return settings;
}

// CPU time and voluntary context switches of the whole process (broker, client, runtime) over
// one phase: the same broker work in every run, so differences between builds are the runtime's.
struct Usage {
  double cpu_seconds = 0;
  long voluntary_switches = 0;

  static Usage now() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
    return {seconds(usage.ru_utime) + seconds(usage.ru_stime), usage.ru_nvcsw};
  }
};

// `batches` is how many process_batch calls the records took (0: not a runtime sink).
void report(const char* mode, std::size_t count, std::size_t size, double seconds,
            const std::vector<double>& latencies_ms, const Usage& before, std::size_t batches = 0) {
  const Usage after = Usage::now();
  const auto records = static_cast<double>(count);
  std::printf(
      "{\"mode\":\"%s\",\"count\":%zu,\"size\":%zu,\"seconds\":%.3f,\"msgs_per_sec\":%.0f,"
      "\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"cpu_us_per_msg\":%.2f,\"voluntary_switches_per_msg\":%.3f,"
      "\"records_per_batch\":%.1f}\n",
      mode, count, size, seconds, records / seconds, percentile(latencies_ms, 50),
      percentile(latencies_ms, 99), (after.cpu_seconds - before.cpu_seconds) * 1e6 / records,
      static_cast<double>(after.voluntary_switches - before.voluntary_switches) / records,
      batches == 0 ? 0.0 : records / static_cast<double>(batches));
  std::fflush(stdout);
}

void produce(const client::DanubeClient& client, const std::string& topic, const Settings& s) {
  client::ProducerOptions options;
  options.topic = topic;
  options.name = "bench-feeder";
  options.partitions = s.partitions;
  options.dispatch = client::Dispatch::reliable;
  options.ordering = client::Ordering::relaxed;
  auto producer = std::move(client.create_producer(options)).value();
  const std::string payload(s.size, 'x');
  for (std::size_t i = 0; i < s.count; ++i) {
    client::OutgoingMessage message;
    message.payload = payload;
    message.key = "k" + std::to_string(i % 64);
    producer->send_async(std::move(message), {});
  }
  producer->flush(std::chrono::minutes(10));
}

// Counts what it gets and keeps the latency from publish to processing.
class CountingSink : public connect::SinkConnector {
 public:
  using Shared = bench::ProcessedRecords;
  CountingSink(std::string topic, std::shared_ptr<Shared> shared, connect::SubscriptionType type)
      : topic_(std::move(topic)), shared_(std::move(shared)), type_(type) {}
  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ConsumerConfig> consumer_configs() override {
    return {{topic_, "bench-sink", "bench-sink", type_, {}, {}}};
  }
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    shared_->add(records);
    return connect::BatchResult::all_ok(records.size());
  }

 private:
  std::string topic_;
  std::shared_ptr<Shared> shared_;
  connect::SubscriptionType type_;
};

class GeneratingSource : public connect::SourceConnector {
 public:
  GeneratingSource(std::string topic, std::size_t partitions, std::size_t count, std::size_t size)
      : topic_(std::move(topic)), partitions_(partitions), count_(count), payload_(size, 'x') {}
  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ProducerConfig> producer_configs() override {
    return {connect::ProducerConfig(topic_, partitions_, true)};
  }
  std::vector<connect::SourceEnvelope> poll() override {
    std::vector<connect::SourceEnvelope> batch;
    for (int i = 0; i < 1000 && next_ < count_; ++i, ++next_) {
      batch.emplace_back(connect::SourceRecord::from_bytes("", payload_)
                             .with_key("k" + std::to_string(next_ % 64)),
                         connect::Offset("gen", next_));
    }
    return batch;
  }

 private:
  std::string topic_;
  std::size_t partitions_;
  std::size_t count_;
  std::string payload_;
  std::size_t next_ = 0;
};

connect::ConnectorConfig runtime_config(const testkit::EmbeddedBroker& broker,
                                        const std::string& name) {
  connect::ConnectorConfig config;
  config.danube_service_url = broker.service_url();
  config.connector_name = name;
  config.http.enabled = false;
  config.processing.batch_size = 1000;
  config.processing.batch_timeout_ms = 100;
  config.offsets.state_dir = std::filesystem::temp_directory_path() / ("danube-bench-" + name);
  std::filesystem::remove_all(config.offsets.state_dir);
  return config;
}

void wait_subscribed(testkit::EmbeddedBroker& broker, const Settings& s, const std::string& topic,
                     const std::string& subscription) {
  broker.wait_until(
      [&] {
        for (std::size_t p = 0; p < s.partitions; ++p) {
          auto sub = broker.subscription(topic + "-part-" + std::to_string(p), subscription);
          if (!sub || sub->connected_consumers == 0) return false;
        }
        return true;
      },
      std::chrono::seconds(30));
}

void bench_sink(caf::actor_system& system, testkit::EmbeddedBroker& broker,
                const client::DanubeClient& client, const Settings& s) {
  const std::string topic = "/default/bench-sink";
  broker.create_topic(topic, true, s.partitions);
  auto shared = std::make_shared<CountingSink::Shared>();
  auto runtime = runtime::spawn_sink(
      system, std::make_unique<CountingSink>(topic, shared, s.sink_subscription),
      runtime_config(broker, "bench-sink"));
  wait_subscribed(broker, s, topic, "bench-sink");
  const auto usage = Usage::now();
  const auto start = Clock::now();
  produce(client, topic, s);
  shared->wait_for(s.count);
  const double seconds = std::chrono::duration<double>(shared->last() - start).count();
  report("runtime-sink", s.count, s.size, seconds, shared->latencies_ms(), usage,
         shared->batches());
  caf::scoped_actor self{system};
  self->request(runtime, caf::infinite, runtime::drain_atom::value)
      .receive([](const runtime::RuntimeStatus&) {}, [](const caf::error&) {});
}

void bench_client(testkit::EmbeddedBroker& broker, const client::DanubeClient& client,
                  const Settings& s) {
  const std::string topic = "/default/bench-client";
  broker.create_topic(topic, true, s.partitions);
  client::ConsumerOptions options;
  options.topic = topic;
  options.consumer_name = "bench-client";
  options.subscription = "bench-client";
  options.type = client::SubscriptionType::exclusive;
  auto consumer = std::move(client.subscribe(options)).value();
  wait_subscribed(broker, s, topic, "bench-client");
  const auto usage = Usage::now();
  const auto start = Clock::now();
  std::thread feeder([&] { produce(client, topic, s); });
  std::vector<double> latencies;
  std::size_t received = 0;
  Clock::time_point last;
  while (received < s.count) {
    for (auto& message : consumer->receive(1000, std::chrono::milliseconds(100))) {
      latencies.push_back(static_cast<double>(now_ms()) -
                          static_cast<double>(message.publish_time));
      consumer->ack_async(message);
      ++received;
      last = Clock::now();
    }
  }
  feeder.join();
  consumer->flush_acks(std::chrono::seconds(30));
  report("client-consume", s.count, s.size, std::chrono::duration<double>(last - start).count(),
         latencies, usage);
}

void bench_source(caf::actor_system& system, testkit::EmbeddedBroker& broker, const Settings& s) {
  const std::string topic = "/default/bench-source";
  const auto usage = Usage::now();
  const auto start = Clock::now();
  auto runtime = runtime::spawn_source(
      system, std::make_unique<GeneratingSource>(topic, s.partitions, s.count, s.size),
      runtime_config(broker, "bench-source"));
  broker.wait_until(
      [&] {
        std::uint64_t published = 0;
        for (std::size_t p = 0; p < s.partitions; ++p) {
          if (auto c = broker.counters(topic + "-part-" + std::to_string(p)))
            published += c->published;
        }
        return published >= s.count;
      },
      std::chrono::minutes(10));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  report("runtime-source", s.count, s.size, seconds, {}, usage);
  caf::scoped_actor self{system};
  self->request(runtime, caf::infinite, runtime::drain_atom::value)
      .receive([](const runtime::RuntimeStatus&) {}, [](const caf::error&) {});
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  testkit::BrokerOptions broker_options;
  broker_options.max_unacked_messages = settings.max_unacked;
  testkit::EmbeddedBroker broker(broker_options);
  broker.start();
  client::ClientOptions client_options;
  client_options.service_url = broker.service_url();
  const auto client = client::DanubeClient::create(client_options).value();
  std::fprintf(
      stderr,
      "embedded broker %s, max_unacked=%u, %zu partitions, %zu x %zu B, scheduler %s x %zu\n",
      broker.service_url().c_str(), settings.max_unacked, settings.partitions, settings.count,
      settings.size, settings.work_stealing ? "stealing" : "sharing", settings.scheduler_threads);
  caf::actor_system_config config;
  config.set("scheduler.max-threads", settings.scheduler_threads);
  config.set("logger.verbosity", caf::atom("quiet"));
  config.set("scheduler.policy",
             settings.work_stealing ? caf::atom("stealing") : caf::atom("sharing"));
  caf::actor_system system{config};
  auto runs = [&](const char* phase) {
    return std::find(settings.phases.begin(), settings.phases.end(), phase) !=
           settings.phases.end();
  };
  if (runs("client")) bench_client(broker, client, settings);
  if (runs("sink")) bench_sink(system, broker, client, settings);
  if (runs("source")) bench_source(system, broker, settings);
  return 0;
}
