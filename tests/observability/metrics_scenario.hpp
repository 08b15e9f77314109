#pragma once

// A sink and a source after traffic that gives every metric family of the SDK a sample, and what
// their /metrics served then:
// - simple_sink with [sink_buffer] on, reading records the test produces with a JSON Schema, a
//   few of which do not decode: received, processed, acked, failed and dead-lettered records,
//   schema cache lookups, the buffer's gauges and counters, every histogram of a sink;
// - simple_source publishing to a partitioned topic: published records and their latencies.
#include <boost/test/unit_test.hpp>
#include <string>

#include "connector_rig.hpp"

namespace danube::observability_test {

using namespace std::chrono_literals;

struct ServedMetrics {
  std::string sink;
  std::string source;
};

inline ServedMetrics metrics_after_traffic(const std::string& label) {
  constexpr std::size_t kTyped = 200;
  constexpr std::size_t kGenerated = 300;
  const auto undecodable = [](std::size_t n) { return n % 25 == 7; };
  const std::string typed_topic = "/default/" + label + "-typed";
  const std::string generated_topic = "/default/" + label + "-generated";
  const std::string sink_name = label + "-sink";
  connector_test::ConnectorRig rig(
      label, DANUBE_EMBEDDED_BROKER_PATH, SIMPLE_SINK_PATH,
      {typed_topic, "/default/" + sink_name + "-dlq", generated_topic + ":partitions=2"});

  auto sink = rig.connector(sink_name, "[simple_sink]\ntopic = \"" + typed_topic +
                                           "\"\nsubscription = \"" + sink_name +
                                           "\"\nprint_every = 0\n[sink_buffer]\nenabled = true\n");
  sink->start();

  client::RegisterSchemaRequest registration;
  registration.subject = label + "-typed-value";
  registration.schema_type = "json_schema";
  registration.definition = R"({"type":"object","properties":{"n":{"type":"integer"}}})";
  BOOST_TEST_REQUIRE(rig.danube->schema_registry().register_schema(registration).ok());
  client::ProducerOptions options;
  options.topic = typed_topic;
  options.name = label + "-typed-producer";
  options.dispatch = Dispatch::reliable;
  options.schema = client::SchemaReference{registration.subject, {}};
  auto producer = rig.danube->create_producer(options);
  BOOST_TEST_REQUIRE(producer.ok());
  std::size_t bad = 0;
  for (std::size_t n = 0; n < kTyped; ++n) {
    client::OutgoingMessage message;
    message.payload =
        undecodable(n) ? "not json " + std::to_string(n) : R"({"n":)" + std::to_string(n) + "}";
    bad += undecodable(n) ? 1 : 0;
    producer.value()->send_async(std::move(message), [](client::Result<client::SendReceipt>) {});
  }
  BOOST_TEST_REQUIRE(producer.value()->flush(30s));
  BOOST_TEST_REQUIRE(producer.value()->stats().failed == 0u);

  chaos::ConnectorToml toml;
  toml.service_url = rig.broker.service_url();
  toml.connector_name = label + "-source";
  toml.extra = "[offsets]\nstate_dir = \"" + (rig.dir.path() / "source-state").string() +
               "\"\n[simple_source]\ntopic = \"" + generated_topic +
               "\"\nmessage_count = " + std::to_string(kGenerated) +
               "\nbatch_size = 50\ninterval_ms = 0\npartitions = 2\n";
  const auto source_config = rig.dir.path() / "source.toml";
  chaos::write_text_file(source_config, toml.render());
  chaos::ConnectorProcess source(toml.connector_name, SIMPLE_SOURCE_PATH, source_config,
                                 rig.dir.path());
  source.start();

  const auto settled = [](std::uint16_t port, const char* metric, std::size_t expected) {
    return chaos::wait_until(
        [&] { return chaos::scrape_metric(port, metric).value_or(-1) == double(expected); }, 60s);
  };
  BOOST_TEST_REQUIRE(
      settled(sink->http_port(), "danube_connector_messages_processed_total", kTyped - bad),
      sink->log().tail());
  BOOST_TEST_REQUIRE(
      settled(sink->http_port(), "danube_connector_messages_dead_lettered_total", bad),
      sink->log().tail());
  // Every record handed to process_batch has its age from publish time observed (decode
  // failures never reach it), each within this test's lifetime.
  const auto ages =
      chaos::scrape_metric(sink->http_port(), "danube_connector_end_to_end_latency_seconds_count");
  const auto age_sum =
      chaos::scrape_metric(sink->http_port(), "danube_connector_end_to_end_latency_seconds_sum");
  BOOST_TEST(ages.value_or(-1) >= double(kTyped - bad));
  BOOST_TEST(age_sum.value_or(-1) >= 0.0);
  BOOST_TEST(age_sum.value_or(1e9) / std::max(1.0, ages.value_or(1)) < 60.0);
  BOOST_TEST_REQUIRE(
      settled(source.http_port(), "danube_connector_messages_processed_total", kGenerated),
      source.log().tail());

  ServedMetrics served;
  const auto sink_metrics = chaos::http_get(sink->http_port(), "/metrics");
  const auto source_metrics = chaos::http_get(source.http_port(), "/metrics");
  BOOST_TEST_REQUIRE((sink_metrics && sink_metrics->status == 200));
  BOOST_TEST_REQUIRE((source_metrics && source_metrics->status == 200));
  served.sink = sink_metrics->body;
  served.source = source_metrics->body;
  return served;
}

}  // namespace danube::observability_test
