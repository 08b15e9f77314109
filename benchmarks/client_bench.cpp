// danube-client-bench: producer and consumer throughput of our C++ client against any Danube
// broker, printing one JSON line in the same shape as the Rust peer's bench subcommands so
// benchmarks/run_client_benchmarks.sh can put the two side by side.
//
//   danube-client-bench produce --service-url URL --topic T --count N --size BYTES
//                               [--in-flight K] [--reliable] [--ordering strict|relaxed]
//                               [--partitions P]
//   danube-client-bench consume --service-url URL --topic T --subscription S --count N [--ack]
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
  std::string mode;
  std::map<std::string, std::string> values;
  bool flag(const std::string& name) const { return values.count(name) > 0; }
  std::string get(const std::string& name, const std::string& fallback = "") const {
    auto it = values.find(name);
    return it == values.end() ? fallback : it->second;
  }
  std::size_t number(const std::string& name, std::size_t fallback) const {
    auto it = values.find(name);
    return it == values.end() ? fallback : std::stoul(it->second);
  }
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(stderr,
               "danube-client-bench: %s\n"
               "usage: danube-client-bench produce --service-url URL --topic T --count N --size B "
               "[--in-flight K] [--reliable] [--ordering strict|relaxed] [--partitions P]\n"
               "       danube-client-bench consume --service-url URL --topic T --subscription S "
               "--count N [--ack]\n",
               problem.c_str());
  std::exit(2);
}

Arguments parse(int argc, char** argv) {
  if (argc < 2) usage("missing mode");
  Arguments arguments;
  arguments.mode = argv[1];
  if (arguments.mode != "produce" && arguments.mode != "consume")
    usage("unknown mode " + arguments.mode);
  for (int i = 2; i < argc; ++i) {
    std::string name = argv[i];
    if (name.rfind("--", 0) != 0) usage("unexpected argument " + name);
    name = name.substr(2);
    if (name == "reliable" || name == "ack") {
      arguments.values[name] = "true";
    } else if (i + 1 < argc) {
      arguments.values[name] = argv[++i];
    } else {
      usage("missing value for --" + name);
    }
  }
  for (const char* required : {"service-url", "topic", "count"}) {
    if (!arguments.flag(required)) usage(std::string("missing --") + required);
  }
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
  options.service_url = arguments.get("service-url");
  auto client = DanubeClient::create(options);
  if (!client) {
    std::fprintf(stderr, "danube-client-bench: %s\n", client.error().to_string().c_str());
    std::exit(1);
  }
  return std::move(client).value();
}

int produce(const Arguments& arguments) {
  const DanubeClient client = connect(arguments);
  const std::size_t count = arguments.number("count", 0);
  const std::size_t size = arguments.number("size", 100);
  ProducerOptions options;
  options.topic = arguments.get("topic");
  options.name = "cpp-bench-producer";
  options.dispatch = arguments.flag("reliable") ? Dispatch::reliable : Dispatch::non_reliable;
  options.max_in_flight = arguments.number("in-flight", 64);
  options.ordering =
      arguments.get("ordering", "relaxed") == "strict" ? Ordering::strict : Ordering::relaxed;
  options.max_pending = std::max<std::size_t>(options.max_in_flight, 10'000);
  // A partitioned topic is created with its partitions by its first producer; with --count 0
  // this only creates the topic.
  options.partitions = arguments.number("partitions", 0);
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
  const std::size_t count = arguments.number("count", 0);
  ConsumerOptions options;
  options.topic = arguments.get("topic");
  options.consumer_name = "cpp-bench-consumer";
  options.subscription = arguments.get("subscription", "cpp-bench");
  options.type = SubscriptionType::exclusive;
  auto consumer = client.subscribe(options);
  if (!consumer) {
    std::fprintf(stderr, "danube-client-bench: %s\n", consumer.error().to_string().c_str());
    return 1;
  }
  std::printf("{\"ready\":true}\n");
  std::fflush(stdout);
  const bool ack = arguments.flag("ack");
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
