// danube-client-bench: producer and consumer throughput of our C++ client against any Danube
// broker, printing one JSON line in the same shape as the Rust peer's bench subcommands so
// benchmarks/run_client_benchmarks.sh can put the two side by side.
//
//   danube-client-bench produce --service-url URL --topic T --count N --size BYTES
//                               [--in-flight K] [--reliable] [--ordering strict|relaxed]
//                               [--partitions P]
//   danube-client-bench consume --service-url URL --topic T --subscription S --count N [--ack]
#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "danube/client/client.hpp"

using namespace danube::client;
using Clock = std::chrono::steady_clock;

namespace {

struct Arguments {
  std::string mode;  // produce or consume
  std::string service_url, topic;
  std::size_t count = 0;
  std::size_t size = 100;                  // produce
  std::size_t in_flight = 64;              // produce
  bool reliable = false;                   // produce
  std::string ordering = "relaxed";        // produce
  std::size_t partitions = 0;              // produce
  std::string subscription = "cpp-bench";  // consume
  bool ack = false;                        // consume
};

Arguments parse(int argc, char** argv) {
  Arguments arguments;
  CLI::App app("danube-client-bench: our client's produce and receive + ack benchmark");
  app.require_subcommand(1);
  auto* produce = app.add_subcommand("produce", "publish --count messages of --size bytes");
  auto* consume = app.add_subcommand("consume", "receive --count messages");
  for (auto* mode : {produce, consume}) {
    mode->add_option("--service-url", arguments.service_url)->required();
    mode->add_option("--topic", arguments.topic)->required();
    mode->add_option("--count", arguments.count)->required();
  }
  produce->add_option("--size", arguments.size);
  produce->add_option("--in-flight", arguments.in_flight)->check(CLI::PositiveNumber);
  produce->add_flag("--reliable", arguments.reliable);
  produce->add_option("--ordering", arguments.ordering)
      ->check(CLI::IsMember({"strict", "relaxed"}));
  produce->add_option("--partitions", arguments.partitions);
  consume->add_option("--subscription", arguments.subscription);
  consume->add_flag("--ack", arguments.ack);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error) == 0 ? 0 : 2);
  }
  arguments.mode = produce->parsed() ? "produce" : "consume";
  return arguments;
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * values.size()));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

void report(const char* mode, std::size_t count, std::size_t size, double seconds,
            std::vector<double>& latencies_us, std::size_t extra_in_flight) {
  const double rate = count / seconds;
  std::printf(
      "{\"mode\":\"%s\",\"client\":\"cpp\",\"count\":%zu,\"size\":%zu,\"in_flight\":%zu,"
      "\"seconds\":%.3f,\"msgs_per_sec\":%.0f,\"mb_per_sec\":%.2f,\"p50_us\":%.0f,\"p99_us\":%.0f}"
      "\n",
      mode, count, size, extra_in_flight, seconds, rate, rate * size / 1e6,
      percentile(latencies_us, 50), percentile(latencies_us, 99));
  std::fflush(stdout);
}

DanubeClient connect(const Arguments& arguments) {
  ClientOptions options;
  options.service_url = arguments.service_url;
  auto client = DanubeClient::create(options);
  if (!client) {
    std::fprintf(stderr, "danube-client-bench: %s\n", client.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(client).value();
}

int produce(const Arguments& arguments) {
  const DanubeClient client = connect(arguments);
  const std::size_t count = arguments.count;
  const std::size_t size = arguments.size;
  ProducerOptions options;
  options.topic = arguments.topic;
  options.name = "cpp-bench-producer";
  options.dispatch = arguments.reliable ? Dispatch::reliable : Dispatch::non_reliable;
  options.max_in_flight = arguments.in_flight;
  options.ordering = arguments.ordering == "strict" ? Ordering::strict : Ordering::relaxed;
  options.max_pending = std::max<std::size_t>(options.max_in_flight, 10'000);
  // A partitioned topic is created with its partitions by its first producer; with --count 0
  // this only creates the topic.
  options.partitions = arguments.partitions;
  auto producer = client.create_producer(options);
  if (!producer) {
    std::fprintf(stderr, "danube-client-bench: %s\n", producer.error().to_string().c_str());
    return 1;
  }
  const std::string payload(size, 'x');
  // Closed loop: at most in_flight messages outstanding, so a latency is one send's round trip
  // under that concurrency, not time spent queued behind the rest of the run.
  std::mutex mutex;
  std::condition_variable slot_freed;
  std::size_t outstanding = 0;
  std::vector<double> latencies_us;
  latencies_us.reserve(count);
  std::atomic<std::size_t> failures{0};
  const auto start = Clock::now();
  for (std::size_t i = 0; i < count; ++i) {
    {
      std::unique_lock lock(mutex);
      slot_freed.wait(lock, [&] { return outstanding < options.max_in_flight; });
      ++outstanding;
    }
    OutgoingMessage message;
    message.payload = payload;
    const auto sent_at = Clock::now();
    producer.value()->send_async(std::move(message), [&, sent_at](Result<SendReceipt> outcome) {
      const double micros =
          std::chrono::duration<double, std::micro>(Clock::now() - sent_at).count();
      if (!outcome) ++failures;
      {
        std::lock_guard lock(mutex);
        latencies_us.push_back(micros);
        --outstanding;
      }
      slot_freed.notify_one();
    });
  }
  producer.value()->flush(std::chrono::minutes(10));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (failures > 0) {
    std::fprintf(stderr, "danube-client-bench: %zu sends failed\n", failures.load());
    return 1;
  }
  std::lock_guard lock(mutex);
  report("produce", count, size, seconds, latencies_us, options.max_in_flight);
  return 0;
}

int consume(const Arguments& arguments) {
  const DanubeClient client = connect(arguments);
  const std::size_t count = arguments.count;
  ConsumerOptions options;
  options.topic = arguments.topic;
  options.consumer_name = "cpp-bench-consumer";
  options.subscription = arguments.subscription;
  options.type = SubscriptionType::exclusive;
  auto consumer = client.subscribe(options);
  if (!consumer) {
    std::fprintf(stderr, "danube-client-bench: %s\n", consumer.error().to_string().c_str());
    return 1;
  }
  std::printf("{\"ready\":true}\n");
  std::fflush(stdout);
  const bool ack = arguments.ack;
  std::vector<double> latencies_us;
  latencies_us.reserve(count);
  std::size_t received = 0;
  std::size_t bytes = 0;
  Clock::time_point start;
  const auto deadline = Clock::now() + std::chrono::minutes(10);
  while (received < count && Clock::now() < deadline) {
    for (auto& message : consumer.value()->receive(1000, std::chrono::milliseconds(100))) {
      if (received == 0) start = Clock::now();
      const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      latencies_us.push_back(
          1000.0 * static_cast<double>(now_ms - static_cast<std::int64_t>(message.publish_time)));
      bytes += message.payload.size();
      ++received;
      if (ack) consumer.value()->ack_async(message);
    }
  }
  if (ack) consumer.value()->flush_acks(std::chrono::seconds(30));
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (received < count) {
    std::fprintf(stderr, "danube-client-bench: received %zu of %zu\n", received, count);
    return 1;
  }
  report("consume", received, received == 0 ? 0 : bytes / received, seconds, latencies_us, 0);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const Arguments arguments = parse(argc, argv);
  return arguments.mode == "produce" ? produce(arguments) : consume(arguments);
}
