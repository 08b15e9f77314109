// danube-latency-bench: latency from publish to process_batch of the runtime's sink at a fixed
// publish rate (not a backlog drain), next to a bare client consumer in the same run.
//
//   danube-latency-bench --broker-url http://127.0.0.1:PORT [--rate 1000] [--count 20000]
//                        [--warmup 2000] [--partitions 4] [--size 100]
//                        [--phases client,sink,sink-tuned] [--tuned-linger-ms 1]
//                        [--tuned-batch-size 1000] [--subscription exclusive]
//                        [--scheduler-threads 2] [--scheduler-policy sharing|stealing]
//                        [--sample-stages]
//
// The broker is another process (run_latency_benchmarks.sh starts danube-embedded-broker with
// the window under test), as it is for a deployed connector. Each phase gets a topic of its own
// with `partitions` reliable partitions, created by its producer; the consumer subscribes, probe
// messages go out until one came through every partition (Danube starts a new subscription at
// the newest message, so nothing earlier can be counted on), then `warmup` + `count` numbered
// messages are published paced at `rate` per second, round robin over the partitions, each
// stamped with the steady clock right before send_async. Latency is the time from that stamp
// until the consumer has the message:
//
//   client       a bare client consumer: when receive() returns it (every message is acked)
//   sink         the runtime's sink (spawn_sink) with the default [processing] batch settings
//                (batch_size 1000, batch_timeout_ms 1000): when process_batch is called
//   sink-tuned   the same with the batch settings given by --tuned-linger-ms/--tuned-batch-size
//
// One JSON line per phase on stdout. Exit code 1 when a phase lost samples or never went live.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <caf/all.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "danube/client/client.hpp"
#include "danube/connect/connect.hpp"
#include "danube/runtime/embedding.hpp"
#include "latency_recorder.hpp"
#include "latency_stamp.hpp"
#include "sink_stage_sampler.hpp"

namespace {

using namespace danube;
using bench::LatencyRecorder;
using bench::LatencyStamp;
using bench::StampKind;
using bench::steady_now_ns;
using Clock = std::chrono::steady_clock;

struct Settings {
  std::string broker_url;
  std::size_t rate = 1000;
  std::size_t count = 20'000;
  std::size_t warmup = 2'000;
  std::size_t partitions = 4;
  std::size_t size = 100;
  std::vector<std::string> phases = {"client", "sink", "sink-tuned"};
  std::uint64_t tuned_linger_ms = 1;
  std::size_t tuned_batch_size = 1000;
  connect::SubscriptionType subscription = connect::SubscriptionType::exclusive;
  bool sample_stages = false;  // --sample-stages: the sink's queues, from its status
  int scheduler_threads = 1;   // run_sink's defaults (no sink buffer)
  std::string scheduler_policy = "sharing";
};

Settings parse(int argc, char** argv) {
  Settings s;
  CLI::App app("danube-latency-bench: publish -> process_batch latency at a fixed rate");
  app.add_option("--broker-url", s.broker_url, "http://host:port of a running broker")->required();
  app.add_option("--rate", s.rate, "messages per second, paced")->check(CLI::PositiveNumber);
  app.add_option("--count", s.count, "measured messages per phase")->check(CLI::PositiveNumber);
  app.add_option("--warmup", s.warmup, "messages per phase before the measured ones");
  app.add_option("--partitions", s.partitions);
  app.add_option("--size", s.size, "payload bytes (at least the 17-byte stamp)");
  app.add_option("--phases", s.phases)
      ->delimiter(',')
      ->check(CLI::IsMember({"client", "sink", "sink-tuned"}));
  app.add_option("--tuned-linger-ms", s.tuned_linger_ms, "sink-tuned: batch_timeout_ms")
      ->check(CLI::PositiveNumber);
  app.add_option("--tuned-batch-size", s.tuned_batch_size, "sink-tuned: batch_size")
      ->check(CLI::PositiveNumber);
  app.add_flag("--sample-stages", s.sample_stages,
               "sink phases: sample the runtime's status every 20 ms to see where messages wait");
  app.add_option("--scheduler-threads", s.scheduler_threads, "the actor system's worker threads")
      ->check(CLI::PositiveNumber);
  app.add_option("--scheduler-policy", s.scheduler_policy)
      ->check(CLI::IsMember({"sharing", "stealing"}));
  std::string subscription = "Exclusive";
  app.add_option("--subscription", subscription)->check([](const std::string& text) {
    return connect::parse_subscription_type(text) ? std::string() : "unknown subscription type";
  });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error) == 0 ? 0 : 2);
  }
  s.subscription = *connect::parse_subscription_type(subscription);
  return s;
}

client::DanubeClient make_client(const Settings& s) {
  client::ClientOptions options;
  options.service_url = s.broker_url;
  auto created = client::DanubeClient::create(options);
  if (!created) {
    std::fprintf(stderr, "cannot create a client for %s\n", s.broker_url.c_str());
    std::exit(1);
  }
  return std::move(created).value();
}

// How the paced producer kept to its schedule, and how long the broker took to accept sends.
struct PublishReport {
  double achieved_rate = 0;    // samples per second from the first to the last send
  std::size_t late_sends = 0;  // sent more than 1 ms after their due time (warm-up included)
  double max_lateness_us = 0;  // the latest send behind its due time
  double send_ack_p50_us = 0;  // send_async -> the broker's acknowledgement
  double send_ack_p99_us = 0;
};

// Publishes a phase's messages from the calling thread.
class PacedProducer {
 public:
  PacedProducer(const client::DanubeClient& client, const std::string& topic, const Settings& s)
      : settings_(s) {
    client::ProducerOptions options;
    options.topic = topic;
    options.name = "latency-feeder";
    options.partitions = s.partitions;
    options.dispatch = client::Dispatch::reliable;
    auto created = client.create_producer(options);
    if (!created) {
      std::fprintf(stderr, "cannot create a producer on %s\n", topic.c_str());
      std::exit(1);
    }
    producer_ = std::move(created).value();
    ack_ns_.assign(s.warmup + s.count, -1);
  }

  // Sends a probe every 5 ms until `recorder` saw one through every partition (or 30 s).
  bool probe_until_live(LatencyRecorder& recorder) {
    const auto give_up = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < give_up) {
      send({StampKind::probe, 0, steady_now_ns()});
      if (recorder.wait_live(Clock::now() + std::chrono::milliseconds(5))) return true;
    }
    return false;
  }

  // Message i is due at start + i / rate; a send that is late goes at once (no skipping), so
  // the rate holds on average even after the thread was kept off a core.
  // `measuring` is called right before the first sample after the warm-up goes out.
  PublishReport publish_samples(const std::function<void()>& measuring) {
    const std::size_t total = settings_.warmup + settings_.count;
    const auto period = std::chrono::nanoseconds(1'000'000'000 / settings_.rate);
    PublishReport report;
    const auto start = Clock::now() + std::chrono::milliseconds(1);
    std::int64_t first_ns = 0, last_ns = 0;
    for (std::size_t i = 0; i < total; ++i) {
      const auto due = start + period * static_cast<std::int64_t>(i);
      if (due > Clock::now()) std::this_thread::sleep_until(due);
      const auto lateness = Clock::now() - due;
      if (lateness > std::chrono::milliseconds(1)) ++report.late_sends;
      report.max_lateness_us = std::max(
          report.max_lateness_us, std::chrono::duration<double, std::micro>(lateness).count());
      if (i == settings_.warmup) measuring();
      const auto sent_ns = steady_now_ns();
      if (i == 0) first_ns = sent_ns;
      last_ns = sent_ns;
      send({StampKind::sample, i, sent_ns});
      sent_samples_.store(i + 1);
    }
    producer_->flush(std::chrono::minutes(1));
    if (total > 1 && last_ns > first_ns) {
      report.achieved_rate =
          static_cast<double>(total - 1) * 1e9 / static_cast<double>(last_ns - first_ns);
    }
    std::lock_guard lock(mutex_);
    std::vector<std::int64_t> acks;
    for (std::size_t i = settings_.warmup; i < ack_ns_.size(); ++i) {
      if (ack_ns_[i] >= 0) acks.push_back(ack_ns_[i]);
    }
    std::sort(acks.begin(), acks.end());
    report.send_ack_p50_us = bench::nearest_rank(acks, 50) / 1000.0;
    report.send_ack_p99_us = bench::nearest_rank(acks, 99) / 1000.0;
    return report;
  }

  // Samples handed to send_async so far.
  const std::atomic<std::size_t>& sent_samples() const { return sent_samples_; }

 private:
  void send(const LatencyStamp& stamp) {
    client::OutgoingMessage message;
    message.payload = bench::stamped_payload(stamp, settings_.size);
    const bool sample = stamp.kind == StampKind::sample;
    producer_->send_async(std::move(message), [this, sample, stamp](auto result) {
      if (!sample || !result) return;
      const auto acked = steady_now_ns() - stamp.sent_ns;
      std::lock_guard lock(mutex_);
      ack_ns_[stamp.sequence] = acked;
    });
  }

  const Settings& settings_;
  std::atomic<std::size_t> sent_samples_ = 0;
  std::mutex mutex_;
  std::vector<std::int64_t> ack_ns_;  // by sequence: send -> broker acknowledgement
  // Last, so it is closed (and its callbacks, which write ack_ns_, are done) first.
  std::unique_ptr<client::Producer> producer_;
};

// The connector under test: notes when process_batch is called, for every record it gets.
class LatencySink : public connect::SinkConnector {
 public:
  LatencySink(std::string topic, std::shared_ptr<LatencyRecorder> recorder,
              connect::SubscriptionType type)
      : topic_(std::move(topic)), recorder_(std::move(recorder)), type_(type) {}
  void initialize(const connect::ConnectorContext&) override {}
  std::vector<connect::ConsumerConfig> consumer_configs() override {
    return {{topic_, "latency-sink", "latency-sink", type_, {}, {}}};
  }
  connect::BatchResult process_batch(std::span<const connect::SinkRecord> records) override {
    const auto called_ns = steady_now_ns();
    std::size_t samples = 0;
    for (const auto& record : records) {
      if (recorder_->observe(record.as_bytes(), record.partition().value_or(0), called_ns)) {
        ++samples;
      }
    }
    recorder_->add_delivery(samples);
    return connect::BatchResult::all_ok(records.size());
  }

 private:
  std::string topic_;
  std::shared_ptr<LatencyRecorder> recorder_;
  connect::SubscriptionType type_;
};

// A bare client consumer: receive, note the time, ack; no runtime.
class BareConsumer {
 public:
  BareConsumer(client::DanubeClient client, const std::string& topic,
               std::shared_ptr<LatencyRecorder> recorder, const Settings& s)
      : client_(std::move(client)), recorder_(std::move(recorder)) {
    client::ConsumerOptions options;
    options.topic = topic;
    options.consumer_name = "latency-client";
    options.subscription = "latency-client";
    options.type = s.subscription;
    auto subscribed = client_.subscribe(options);
    if (!subscribed) {
      std::fprintf(stderr, "cannot subscribe to %s\n", topic.c_str());
      std::exit(1);
    }
    consumer_ = std::move(subscribed).value();
    loop_ = std::thread([this] { run(); });
  }
  ~BareConsumer() {
    stop_ = true;
    loop_.join();
    consumer_->flush_acks(std::chrono::seconds(30));
  }

 private:
  void run() {
    while (!stop_) {
      auto messages = consumer_->receive(1000, std::chrono::milliseconds(50));
      if (messages.empty()) continue;
      const auto received_ns = steady_now_ns();
      std::size_t samples = 0;
      for (const auto& message : messages) {
        const std::span bytes(reinterpret_cast<const std::uint8_t*>(message.payload.data()),
                              message.payload.size());
        if (recorder_->observe(bytes, message.partition, received_ns)) ++samples;
        consumer_->ack_async(message);
      }
      recorder_->add_delivery(samples);
    }
  }

  client::DanubeClient client_;  // a client of its own, as a separate consumer process has
  std::shared_ptr<LatencyRecorder> recorder_;
  std::unique_ptr<client::Consumer> consumer_;
  std::atomic<bool> stop_ = false;
  std::thread loop_;
};

connect::ConnectorConfig sink_config(const Settings& s, const std::string& phase) {
  connect::ConnectorConfig config;  // [processing] batch settings stay the defaults here
  config.danube_service_url = s.broker_url;
  config.connector_name = "latency-" + phase;
  config.http.enabled = false;
  config.offsets.state_dir = std::filesystem::temp_directory_path() /
                             ("danube-latency-bench-" + std::to_string(getpid()) + "-" + phase);
  std::filesystem::remove_all(config.offsets.state_dir);
  if (phase == "sink-tuned") {
    config.processing.batch_timeout_ms = s.tuned_linger_ms;
    config.processing.batch_size = s.tuned_batch_size;
  }
  return config;
}

void drain(caf::actor_system& system, const runtime::connector_actor& sink) {
  caf::scoped_actor self{system};
  self->request(sink, std::chrono::minutes(1), runtime::drain_atom::value)
      .receive([](const runtime::RuntimeStatus&) {},
               [](const caf::error& error) {
                 std::fprintf(stderr, "drain failed: %s\n", caf::to_string(error).c_str());
               });
}

// Per thread role over the measured part, per measured message: CPU, time spent runnable but
// waiting for a CPU, and times put on a CPU (about one per wake-up), as JSON members.
std::string thread_report(const std::map<std::int64_t, bench::ThreadTimes>& before,
                          const std::map<std::int64_t, bench::ThreadTimes>& after,
                          std::int64_t consumer_thread, std::size_t messages) {
  const std::int64_t main_thread = getpid();
  // Thread names as this process's threads get them: CAF 0.17 names its scheduler workers
  // "caf.multiplexer" and detached actors "caf.actor"; a std::thread inherits the name of the
  // thread that started it, so the client's partition readers are "danube-latency-..." for the
  // bare consumer and "caf.actor" for the runtime's (started from its broker I/O actor).
  auto group_of = [&](std::int64_t tid, const std::string& name) -> std::string {
    if (tid == main_thread) return "producer";              // the paced publisher runs on main
    if (tid == consumer_thread) return "consumer";          // process_batch, or the receive loop
    if (name == "caf.multiplexer") return "actor_workers";  // consumer actors, dispatcher
    if (name == "caf.actor" || name.rfind("danube-latency", 0) == 0) {
      return "readers";  // partition readers (and the runtime's idle detached actors)
    }
    return "grpc";  // completion queues, executor, timers
  };
  std::string json;
  const auto per_message = [&](std::uint64_t value) {
    return static_cast<double>(value) / static_cast<double>(messages);
  };
  for (const auto& [group, times] : bench::times_by_group(before, after, group_of)) {
    char member[200];
    std::snprintf(member, sizeof member,
                  "%s\"%s\":{\"cpu_us\":%.1f,\"wait_us\":%.1f,\"slices\":%.2f}",
                  json.empty() ? "" : ",", group.c_str(), per_message(times.on_cpu_ns) / 1000.0,
                  per_message(times.waiting_ns) / 1000.0, per_message(times.slices));
    json += member;
  }
  return json;
}

// The sink's queues as a JSON member (with its leading comma), or nothing when not sampled.
std::string stage_report(const std::optional<bench::StageQueues>& stages) {
  if (!stages) return {};
  char member[400];
  std::snprintf(member, sizeof member,
                ",\"stages\":{\"samples\":%zu,\"before_intake_mean\":%.2f,"
                "\"before_intake_max\":%lld,\"in_runtime_mean\":%.2f,\"in_runtime_max\":%lld,"
                "\"awaiting_ack_mean\":%.2f,\"awaiting_ack_max\":%lld}",
                stages->samples, stages->before_intake_mean,
                static_cast<long long>(stages->before_intake_max), stages->in_runtime_mean,
                static_cast<long long>(stages->in_runtime_max), stages->awaiting_ack_mean,
                static_cast<long long>(stages->awaiting_ack_max));
  return member;
}

// Runs one phase; false when it lost samples or never went live.
bool run_phase(const std::string& phase, const Settings& s, const client::DanubeClient& client,
               caf::actor_system& system) {
  const std::string topic = "/default/latency-" + phase + "-" + std::to_string(getpid());
  auto recorder = std::make_shared<LatencyRecorder>(s.warmup + s.count, s.partitions);
  PacedProducer producer(client, topic, s);  // creates the topic and its partitions

  std::unique_ptr<BareConsumer> consumer;
  std::optional<runtime::connector_actor> sink;
  std::size_t batch_size = 0;
  std::uint64_t batch_timeout_ms = 0;
  if (phase == "client") {
    consumer = std::make_unique<BareConsumer>(make_client(s), topic, recorder, s);
  } else {
    auto config = sink_config(s, phase);
    batch_size = config.processing.batch_size;
    batch_timeout_ms = config.processing.batch_timeout_ms;
    sink = runtime::spawn_sink(
        system, std::make_unique<LatencySink>(topic, recorder, s.subscription), config);
  }

  const bool live = producer.probe_until_live(*recorder);
  PublishReport published;
  bool complete = false;
  std::map<std::int64_t, bench::ThreadTimes> threads_before, threads_after;
  std::optional<bench::StageQueues> stages;
  if (live) {
    std::unique_ptr<bench::SinkStageSampler> sampler;
    if (sink && s.sample_stages) {
      sampler = std::make_unique<bench::SinkStageSampler>(system, *sink, producer.sent_samples(),
                                                          s.warmup);
    }
    published = producer.publish_samples([&] { threads_before = bench::thread_times(); });
    complete = recorder->wait_all(Clock::now() + std::chrono::seconds(30));
    threads_after = bench::thread_times();
    if (sampler) {
      sampler->stop();
      stages = sampler->queues();
    }
  } else {
    std::fprintf(stderr, "%s: no probe came through every partition within 30 s\n", phase.c_str());
  }
  if (sink) drain(system, *sink);
  consumer.reset();

  const auto summary = recorder->summary(s.warmup);
  double load[3] = {0, 0, 0};
  getloadavg(load, 3);
  std::printf(
      "{\"phase\":\"%s\",\"rate\":%zu,\"partitions\":%zu,\"size\":%zu,\"warmup\":%zu,"
      "\"samples\":%zu,\"missing\":%zu,\"duplicates\":%zu,\"batch_size\":%zu,"
      "\"batch_timeout_ms\":%llu,\"p50_us\":%.0f,\"p90_us\":%.0f,\"p99_us\":%.0f,"
      "\"p999_us\":%.0f,\"max_us\":%.0f,\"mean_us\":%.0f,\"samples_per_delivery\":%.2f,"
      "\"single_sample_deliveries\":%.3f,\"achieved_rate\":%.1f,\"late_sends\":%zu,"
      "\"max_send_lateness_us\":%.0f,\"send_ack_p50_us\":%.0f,\"send_ack_p99_us\":%.0f,"
      "\"loadavg_1m\":%.2f,\"threads\":{%s}%s}\n",
      phase.c_str(), s.rate, s.partitions, s.size, s.warmup, summary.samples, summary.missing,
      recorder->duplicates(), batch_size, static_cast<unsigned long long>(batch_timeout_ms),
      summary.p50_us, summary.p90_us, summary.p99_us, summary.p999_us, summary.max_us,
      summary.mean_us, recorder->samples_per_delivery(), recorder->single_sample_share(),
      published.achieved_rate, published.late_sends, published.max_lateness_us,
      published.send_ack_p50_us, published.send_ack_p99_us, load[0],
      thread_report(threads_before, threads_after, recorder->consumer_thread(), s.count).c_str(),
      stage_report(stages).c_str());
  std::fflush(stdout);
  return live && complete && summary.missing == 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::fprintf(stderr,
               "broker %s, %zu partitions, %zu msgs/s paced, %zu + %zu warm-up x %zu B per "
               "phase\n",
               settings.broker_url.c_str(), settings.partitions, settings.rate, settings.count,
               settings.warmup, settings.size);
  const auto client = make_client(settings);
  // The actor system as run_sink builds it (by default two worker threads, work sharing).
  caf::actor_system_config config;
  config.set("scheduler.max-threads", settings.scheduler_threads);
  config.set("logger.verbosity", caf::atom("quiet"));
  config.set("scheduler.policy",
             settings.scheduler_policy == "sharing" ? caf::atom("sharing") : caf::atom("stealing"));
  caf::actor_system system{config};
  bool ok = true;
  for (const auto& phase : settings.phases)
    ok = run_phase(phase, settings, client, system) && ok;
  return ok ? 0 : 1;
}
