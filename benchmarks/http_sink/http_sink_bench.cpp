// danube-http-sink-bench: records per second into one local HTTP server (civetweb, keep-alive,
// answering 200 at once), in the same run:
//   connector: records pre-published to the embedded broker -> danube-sink-http -> the server,
//              per body format (single, and ndjson batches);
//   wrk:       wrk posting the same bodies straight to the same server (the server's and this
//              machine's ceiling for that request shape).
#include <signal.h>

#include <CLI/CLI.hpp>
#include <array>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>

#include "chaos_support.hpp"
#include "danube/client/client.hpp"
#include "http_sink_server.hpp"

namespace {

using namespace danube;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

std::string record_payload(std::size_t n, std::size_t pad) {
  return nlohmann::json{
      {"n", n}, {"device", "sensor-" + std::to_string(n % 64)}, {"pad", std::string(pad, 'x')}}
      .dump();
}

// Records per request: NDJSON lines, else one.
std::uint64_t records_in(const http_sink_test::ReceivedRequest& request) {
  if (request.path.find("ndjson") == std::string::npos) return 1;
  return static_cast<std::uint64_t>(std::count(request.body.begin(), request.body.end(), '\n'));
}

struct Figure {
  std::string path;
  std::uint64_t records = 0;
  double seconds = 0;
  double rate() const { return seconds > 0 ? static_cast<double>(records) / seconds : 0; }
};

void print(const Figure& figure) {
  std::printf("%-28s records=%llu seconds=%.3f records_per_s=%.0f\n", figure.path.c_str(),
              static_cast<unsigned long long>(figure.records), figure.seconds, figure.rate());
  std::fflush(stdout);
}

void publish(client::DanubeClient& danube, const std::string& topic, std::size_t partitions,
             std::size_t count, std::size_t pad) {
  client::ProducerOptions options;
  options.topic = topic;
  options.name = "bench-producer-" + topic.substr(topic.rfind('/') + 1);
  options.partitions = partitions;
  options.dispatch = Dispatch::reliable;
  auto created = danube.create_producer(options);
  if (!created.ok()) throw std::runtime_error("cannot create a producer on " + topic);
  auto producer = std::move(created).value();
  for (std::size_t n = 0; n < count; ++n) {
    client::OutgoingMessage message;
    message.payload = record_payload(n, pad);
    message.key = "k" + std::to_string(n % 16);
    producer->send_async(std::move(message), [](client::Result<client::SendReceipt>) {});
  }
  if (!producer->flush(5min)) throw std::runtime_error("publishing to " + topic + " timed out");
}

// Runs the connector on one route and times the records' arrival at the server: from the first
// record to the last, so the process start and subscription do not count.
Figure through_connector(const std::string& label, const std::filesystem::path& connector_binary,
                         const chaos::ScratchDirectory& dir, const std::string& service_url,
                         const http_sink_test::HttpTestServer& server, const std::string& route,
                         std::uint64_t records) {
  chaos::ConnectorToml toml;
  toml.service_url = service_url;
  toml.connector_name = "bench-" + label;
  toml.batch_size = 1000;
  toml.batch_timeout_ms = 20;
  toml.extra =
      "[offsets]\nstate_dir = \"" + (dir.path() / (label + "-state")).string() + "\"\n" + route;
  const auto config = dir.path() / (label + ".toml");
  chaos::write_text_file(config, toml.render());
  chaos::ConnectorProcess connector(toml.connector_name, connector_binary, config, dir.path());
  const std::uint64_t before = server.delivered_records();
  connector.start();
  Clock::time_point first{};
  const bool started = chaos::wait_until(
      [&] {
        if (server.delivered_records() == before) return false;
        first = Clock::now();
        return true;
      },
      60s);
  if (!started) throw std::runtime_error(label + ": nothing arrived\n" + connector.log().tail());
  const auto first_count = server.delivered_records() - before;
  if (!server.wait_for_delivered(before + records, 10min)) {
    throw std::runtime_error(label + ": not every record arrived\n" + connector.log().tail());
  }
  Figure figure;
  figure.path = "connector " + label;
  figure.records = records - first_count;
  figure.seconds = std::chrono::duration<double>(Clock::now() - first).count();
  connector.signal(SIGTERM);
  connector.wait(30s);
  return figure;
}

// simple_sink (a connector that does nothing with its records) on the same kind of topic: the
// runtime's own ceiling on this machine, read from its processed-records counter.
Figure through_noop_sink(const std::filesystem::path& simple_sink_binary,
                         const chaos::ScratchDirectory& dir, const std::string& service_url,
                         const std::string& topic, std::uint64_t records) {
  chaos::ConnectorToml toml;
  toml.service_url = service_url;
  toml.connector_name = "bench-noop";
  toml.batch_size = 1000;
  toml.batch_timeout_ms = 20;
  toml.extra = "[offsets]\nstate_dir = \"" + (dir.path() / "noop-state").string() +
               "\"\n[simple_sink]\ntopic = \"" + topic +
               "\"\nsubscription = \"bench\"\nconsumer_name = \"bench-noop-0\"\nprint_every = 0\n";
  const auto config = dir.path() / "noop.toml";
  chaos::write_text_file(config, toml.render());
  chaos::ConnectorProcess connector(toml.connector_name, simple_sink_binary, config, dir.path());
  connector.start();
  const auto processed = [&] {
    return static_cast<std::uint64_t>(
        chaos::scrape_metric(connector.http_port(), "danube_connector_messages_processed_total")
            .value_or(0));
  };
  Clock::time_point first{};
  std::uint64_t first_count = 0;
  const bool started = chaos::wait_until(
      [&] {
        first_count = processed();
        first = Clock::now();
        return first_count > 0;
      },
      60s);
  if (!started) throw std::runtime_error("simple_sink: nothing processed");
  if (!chaos::wait_until([&] { return processed() >= records; }, 10min)) {
    throw std::runtime_error("simple_sink: not every record processed");
  }
  Figure figure;
  figure.path = "simple_sink (no-op)";
  figure.records = records - first_count;
  figure.seconds = std::chrono::duration<double>(Clock::now() - first).count();
  connector.signal(SIGTERM);
  connector.wait(30s);
  return figure;
}

// wrk posting `body` to `url`; records per second = requests per second x records per body.
Figure through_wrk(const std::string& label, const std::filesystem::path& dir,
                   const std::string& url, const std::string& body, const std::string& content_type,
                   std::uint64_t records_per_request, int connections, int seconds) {
  const auto script = dir / (label + ".lua");
  std::ofstream(script) << "wrk.method = \"POST\"\nwrk.body = " << nlohmann::json(body).dump()
                        << "\nwrk.headers[\"Content-Type\"] = \"" << content_type << "\"\n";
  const std::string command = "wrk -t2 -c" + std::to_string(connections) + " -d" +
                              std::to_string(seconds) + "s -s " + script.string() + " " + url;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) throw std::runtime_error("cannot run wrk");
  std::string output;
  std::array<char, 512> buffer{};
  while (fgets(buffer.data(), buffer.size(), pipe.get()))
    output += buffer.data();
  const auto at = output.find("Requests/sec:");
  if (at == std::string::npos) throw std::runtime_error("wrk printed no rate:\n" + output);
  const double requests_per_second = std::stod(output.substr(at + 13));
  Figure figure;
  figure.path = "wrk " + label;
  figure.seconds = 1.0;
  figure.records =
      static_cast<std::uint64_t>(requests_per_second * static_cast<double>(records_per_request));
  return figure;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"danube-sink-http throughput beside wrk against the same HTTP server"};
  std::size_t records = 20000;
  std::size_t batch_records = 100;
  std::size_t partitions = 4;
  std::size_t concurrency = 8;
  std::size_t pad = 64;
  int wrk_seconds = 5;
  std::string broker_binary;
  std::string connector_binary;
  std::string simple_sink_binary;
  app.add_option("--records", records, "records per connector run")
      ->check(CLI::Range(1000, 10'000'000));
  app.add_option("--batch-records", batch_records, "records per ndjson request");
  app.add_option("--partitions", partitions, "partitions of each topic");
  app.add_option("--concurrency", concurrency, "the route's max_concurrency; wrk's connections");
  app.add_option("--payload-pad", pad, "padding bytes in each JSON record");
  app.add_option("--wrk-seconds", wrk_seconds, "duration of each wrk run");
  app.add_option("--broker", broker_binary, "danube-embedded-broker")->required();
  app.add_option("--connector", connector_binary, "danube-sink-http")->required();
  app.add_option("--simple-sink", simple_sink_binary, "simple_sink, for the runtime's ceiling");
  CLI11_PARSE(app, argc, argv);

  try {
    chaos::ScratchDirectory dir("http-sink-bench");
    http_sink_test::HttpTestServer::Options server_options;
    server_options.threads = static_cast<int>(std::max<std::size_t>(concurrency, 4) + 4);
    server_options.keep_requests = false;
    server_options.count_records = &records_in;
    http_sink_test::HttpTestServer server(
        [](const http_sink_test::ReceivedRequest&) { return http_sink_test::Reply{}; },
        server_options);

    const std::vector<std::string> topics = {"single", "single-relaxed", "ndjson", "noop"};
    std::vector<std::string> arguments = {"--max-unacked", "5000", "--log-level", "warn"};
    for (const auto& topic : topics) {
      arguments.push_back("--topic");
      arguments.push_back("/default/bench-" + topic + ":partitions=" + std::to_string(partitions));
    }
    chaos::BrokerProcess broker(broker_binary, dir.path(), arguments);
    broker.start();
    client::ClientOptions client_options;
    client_options.service_url = broker.service_url();
    auto created = client::DanubeClient::create(client_options);
    if (!created.ok()) throw std::runtime_error("cannot create the Danube client");
    auto danube = std::move(created).value();
    std::printf("records=%zu partitions=%zu concurrency=%zu batch_records=%zu payload_bytes=%zu\n",
                records, partitions, concurrency, batch_records, record_payload(0, pad).size());

    const auto route = [&](const std::string& topic, const std::string& more) {
      return "[[http_sink.routes]]\nfrom = \"/default/bench-" + topic + "\"\nto = \"" +
             server.url("/" + topic) +
             "\"\nsubscription = \"bench\"\nmax_concurrency = " + std::to_string(concurrency) +
             "\n" + more;
    };
    const std::vector<std::pair<std::string, std::string>> runs = {
        {"single", ""},
        {"single-relaxed", "ordering = \"relaxed\"\n"},
        {"ndjson",
         "body_format = \"ndjson\"\nmax_batch_records = " + std::to_string(batch_records) + "\n"}};
    for (const auto& [topic, more] : runs) {
      // Subscribe once (and stop) so the subscription exists, then publish, then measure.
      {
        client::ConsumerOptions options;
        options.topic = "/default/bench-" + topic;
        options.consumer_name = "bench-" + topic + "-0";
        options.subscription = "bench";
        auto consumer = danube.subscribe(options);
        if (!consumer.ok()) throw std::runtime_error("cannot subscribe to " + options.topic);
      }
      publish(danube, "/default/bench-" + topic, partitions, records, pad);
      print(through_connector(topic, connector_binary, dir, broker.service_url(), server,
                              route(topic, more), records));
    }

    if (!simple_sink_binary.empty()) {
      {
        client::ConsumerOptions options;
        options.topic = "/default/bench-noop";
        options.consumer_name = "bench-noop-0";
        options.subscription = "bench";
        auto consumer = danube.subscribe(options);
        if (!consumer.ok()) throw std::runtime_error("cannot subscribe to " + options.topic);
      }
      publish(danube, "/default/bench-noop", partitions, records, pad);
      print(through_noop_sink(simple_sink_binary, dir, broker.service_url(), "/default/bench-noop",
                              records));
    }

    std::string ndjson_body;
    for (std::size_t n = 0; n < batch_records; ++n)
      ndjson_body += record_payload(n, pad) + "\n";
    print(through_wrk("single", dir.path(), server.url("/wrk-single"), record_payload(1, pad),
                      "application/json", 1, static_cast<int>(concurrency), wrk_seconds));
    print(through_wrk("ndjson", dir.path(), server.url("/wrk-ndjson"), ndjson_body,
                      "application/x-ndjson", batch_records, static_cast<int>(concurrency),
                      wrk_seconds));
  } catch (const std::exception& error) {
    std::fprintf(stderr, "danube-http-sink-bench: %s\n", error.what());
    return 1;
  }
  return 0;
}
