// danube-scale-out-bench: how fast 1, 2, 3... sink processes on one Shared subscription drain
// the same backlog from the embedded broker (docs/scaling.md).
//
//   danube-scale-out-bench --broker PATH --sink PATH [--instances 1,2,3] [--count N]
//                          [--size BYTES] [--partitions P] [--max-unacked W] [--record-us U]
//                          [--batch-size B] [--fdatasync]
//
// Per instance count, on a fresh broker (a process, like the sinks): the sinks (chaos_sink
// processes, each appending what it processes to its own file) subscribe and open their
// streams, then are stopped with SIGSTOP; this program publishes the backlog (N messages of
// BYTES bytes, round robin over P partitions); then SIGCONT, and the clock runs until the
// sinks' files hold every message. So the figure is the drain of one backlog by instances
// already connected, start-up excluded. `--record-us` makes the sink wait that long per record
// (a sink whose external system dominates); `--fdatasync` makes it sync every batch.
//
// One JSON line per instance count: msgs/s, each instance's share and CPU seconds, the
// broker's CPU seconds and this program's own (it polls the files), and the load average.
#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "chaos_support.hpp"
#include "danube/client/client.hpp"

namespace {

using namespace danube;
using chaos::Clock;
using namespace std::chrono_literals;

struct Settings {
  std::string broker;
  std::string sink;
  std::vector<std::size_t> instances = {1, 2, 3};
  std::size_t count = 100'000;
  std::size_t size = 100;
  std::size_t partitions = 6;
  std::size_t max_unacked = 1000;
  std::size_t record_us = 0;
  std::size_t batch_size = 500;
  bool fdatasync = false;
};

Settings parse(int argc, char** argv) {
  Settings settings;
  CLI::App app("Throughput of sink instances on one Shared subscription");
  app.add_option("--broker", settings.broker, "danube-embedded-broker executable")->required();
  app.add_option("--sink", settings.sink, "chaos_sink executable")->required();
  app.add_option("--instances", settings.instances, "instance counts to run, in order")
      ->delimiter(',');
  app.add_option("--count", settings.count, "messages in the backlog");
  app.add_option("--size", settings.size, "payload bytes (at least 16)");
  app.add_option("--partitions", settings.partitions, "partitions of the topic");
  app.add_option("--max-unacked", settings.max_unacked, "broker window per subscription");
  app.add_option("--record-us", settings.record_us, "sink work per record (a wait), µs");
  app.add_option("--batch-size", settings.batch_size, "sink [processing] batch_size");
  app.add_flag("--fdatasync", settings.fdatasync, "sink syncs its file after every batch");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    std::exit(app.exit(error));
  }
  settings.size = std::max<std::size_t>(settings.size, 16);
  return settings;
}

// CPU seconds (user + system) a process has used so far; 0 when it cannot be read.
double cpu_seconds(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  const auto end_of_name = text.rfind(')');
  if (end_of_name == std::string::npos) return 0;
  std::istringstream fields(text.substr(end_of_name + 2));
  std::string field;
  unsigned long long utime = 0;
  unsigned long long stime = 0;
  // After the name: state is field 3 of stat(5); utime and stime are fields 14 and 15.
  for (int index = 3; index <= 15 && fields >> field; ++index) {
    if (index == 14) utime = std::stoull(field);
    if (index == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

std::string load_average() {
  std::ifstream file("/proc/loadavg");
  std::string one;
  std::string five;
  std::string fifteen;
  file >> one >> five >> fifteen;
  return one + " " + five + " " + fifteen;
}

// "#<n> " then padding: what the sinks write back, one per line.
std::string payload(std::size_t number, std::size_t size) {
  std::string text = "#" + std::to_string(number) + " ";
  if (text.size() < size) text.append(size - text.size(), 'x');
  return text;
}

// Counts the messages in the sinks' files as they grow: distinct numbers, duplicates.
class Tally {
 public:
  explicit Tally(std::size_t expected) : seen_(expected, false) {}
  void follow(const std::filesystem::path& file) {
    tails_.emplace_back(file);
    per_file_.push_back(0);
  }
  void poll() {
    for (std::size_t i = 0; i < tails_.size(); ++i) {
      for (const auto& line : tails_[i].read_new_lines()) {
        ++per_file_[i];
        const auto space = line.find(' ');
        if (line.empty() || line[0] != '#' || space == std::string::npos) continue;
        const auto number = std::stoull(line.substr(1, space - 1));
        if (number >= seen_.size()) continue;
        if (seen_[number]) {
          ++duplicates_;
        } else {
          seen_[number] = true;
          ++distinct_;
        }
      }
    }
  }
  bool complete() const { return distinct_ == seen_.size(); }
  std::size_t distinct() const { return distinct_; }
  std::size_t duplicates() const { return duplicates_; }
  const std::vector<std::size_t>& per_file() const { return per_file_; }

 private:
  std::vector<chaos::FileTail> tails_;
  std::vector<std::size_t> per_file_;
  std::vector<bool> seen_;
  std::size_t distinct_ = 0;
  std::size_t duplicates_ = 0;
};

std::string json_list(const std::vector<double>& values, const char* format) {
  std::string text = "[";
  char buffer[64];
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::snprintf(buffer, sizeof buffer, format, values[i]);
    text += (i ? "," : "") + std::string(buffer);
  }
  return text + "]";
}

void publish_backlog(const std::string& service_url, const std::string& topic,
                     const Settings& settings) {
  client::ClientOptions options;
  options.service_url = service_url;
  const auto client = client::DanubeClient::create(options).value();
  client::ProducerOptions producer_options;
  producer_options.topic = topic;
  producer_options.name = "scale-bench-feeder";
  producer_options.partitions = settings.partitions;
  producer_options.dispatch = client::Dispatch::reliable;
  producer_options.ordering = client::Ordering::relaxed;
  auto producer = std::move(client.create_producer(producer_options)).value();
  for (std::size_t i = 0; i < settings.count; ++i) {
    client::OutgoingMessage message;
    message.payload = payload(i, settings.size);
    producer->send_async(std::move(message), {});
  }
  if (!producer->flush(10min)) throw std::runtime_error("the backlog was not stored in 10 min");
}

void run(const Settings& settings, std::size_t instances) {
  const std::string topic = "/default/scale-bench";
  const std::string subscription = "scale-bench-sub";
  chaos::ScratchDirectory dir("scale-bench-" + std::to_string(instances));

  const auto broker_log = dir.path() / "broker.log";
  chaos::Process broker(
      "broker",
      {settings.broker, "--listen", "127.0.0.1:0", "--topic",
       topic + ":partitions=" + std::to_string(settings.partitions), "--max-unacked",
       std::to_string(settings.max_unacked), "--ack-timeout-ms", "600000"},
      {}, broker_log);
  chaos::LogWatcher broker_lines(broker_log);
  const auto listening =
      broker_lines.wait_for("listening on", 30s, 0, [&] { return broker.running(); });
  if (!listening) throw std::runtime_error("the broker did not start:\n" + broker_lines.tail());
  const std::string service_url = "http://" + listening->substr(listening->rfind(' ') + 1);

  Tally tally(settings.count);
  std::vector<std::unique_ptr<chaos::ConnectorProcess>> sinks;
  for (std::size_t i = 0; i < instances; ++i) {
    const auto name = "sink-" + std::to_string(i);
    const auto output = dir.path() / (name + ".txt");
    chaos::ConnectorToml toml;
    toml.service_url = service_url;
    toml.connector_name = "scale-bench-" + name;
    toml.batch_size = settings.batch_size;
    // The broker's window, not the runtime's credit, bounds what is in flight.
    toml.max_inflight_records = settings.partitions * settings.max_unacked;
    toml.extra = "[offsets]\nstate_dir = \"" + (dir.path() / "state").string() + "\"\n" +
                 "[chaos_sink]\ntopic = \"" + topic + "\"\nsubscription = \"" + subscription +
                 "\"\nconsumer_name = \"scale-bench-" + name +
                 "\"\nsubscription_type = \"Shared\"\noutput_file = \"" + output.string() +
                 "\"\nrecord_delay_us = " + std::to_string(settings.record_us) +
                 "\nfdatasync = " + (settings.fdatasync ? "true" : "false") + "\n";
    const auto config = dir.path() / (name + ".toml");
    chaos::write_text_file(config, toml.render());
    sinks.push_back(
        std::make_unique<chaos::ConnectorProcess>(name, settings.sink, config, dir.path()));
    tally.follow(output);
  }
  for (auto& sink : sinks)
    sink->start();
  // Every instance's stream open on every partition before anything is published.
  const std::size_t streams = instances * settings.partitions;
  if (!chaos::wait_until(
          [&] {
            return broker_lines.lines_with("event=consumer_stream_attached").size() >= streams;
          },
          60s)) {
    throw std::runtime_error("the sinks did not open their streams:\n" + broker_lines.tail());
  }

  for (auto& sink : sinks)
    sink->signal(SIGSTOP);
  publish_backlog(service_url, topic, settings);

  std::vector<double> cpu_before;
  for (auto& sink : sinks)
    cpu_before.push_back(cpu_seconds(sink->process().pid()));
  const double broker_before = cpu_seconds(broker.pid());
  const double self_before = cpu_seconds(::getpid());
  const std::string load_before = load_average();
  const auto start = Clock::now();
  for (auto& sink : sinks)
    sink->signal(SIGCONT);
  const bool drained = chaos::wait_until(
      [&] {
        tally.poll();
        return tally.complete();
      },
      30min);
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::vector<double> cpu;
  for (std::size_t i = 0; i < sinks.size(); ++i)
    cpu.push_back(cpu_seconds(sinks[i]->process().pid()) - cpu_before[i]);
  const double broker_cpu = cpu_seconds(broker.pid()) - broker_before;
  const double self_cpu = cpu_seconds(::getpid()) - self_before;
  const std::string load_after = load_average();

  std::vector<double> shares;
  for (const auto records : tally.per_file())
    shares.push_back(static_cast<double>(records));
  std::printf(
      "{\"instances\":%zu,\"count\":%zu,\"size\":%zu,\"partitions\":%zu,\"max_unacked\":%zu,"
      "\"record_us\":%zu,\"fdatasync\":%s,\"drained\":%s,\"seconds\":%.3f,\"msgs_per_sec\":%.0f,"
      "\"per_instance\":%s,\"instance_cpu_s\":%s,\"broker_cpu_s\":%.2f,\"bench_cpu_s\":%.2f,"
      "\"duplicates\":%zu,\"missing\":%zu,\"load_before\":\"%s\",\"load_after\":\"%s\"}\n",
      instances, settings.count, settings.size, settings.partitions, settings.max_unacked,
      settings.record_us, settings.fdatasync ? "true" : "false", drained ? "true" : "false",
      seconds, static_cast<double>(tally.distinct()) / seconds, json_list(shares, "%.0f").c_str(),
      json_list(cpu, "%.2f").c_str(), broker_cpu, self_cpu, tally.duplicates(),
      settings.count - tally.distinct(), load_before.c_str(), load_after.c_str());
  std::fflush(stdout);

  for (auto& sink : sinks)
    sink->signal(SIGTERM);
  for (auto& sink : sinks) {
    if (sink->wait(30s).timed_out) sink->kill();
  }
  broker.signal(SIGTERM);
  if (broker.wait(30s).timed_out) broker.kill();
}

}  // namespace

int main(int argc, char** argv) {
  const Settings settings = parse(argc, argv);
  for (const auto instances : settings.instances)
    run(settings, instances);
  return 0;
}
