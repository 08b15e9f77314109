// A real Prometheus (Debian's prometheus package) scrapes a running simple_sink every second
// while simple_source feeds it, and its HTTP API answers the sink's throughput: a rate above zero
// while the messages flow, and, once they stopped, an increase over the whole run equal to what
// the source sent. Without prometheus the test exits 77 and ctest reports it skipped.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "connector_rig.hpp"
#include "prometheus_server.hpp"
#include "promtool.hpp"

using namespace danube;
using namespace danube::observability_test;
using namespace std::chrono_literals;

namespace {

struct RequirePrometheus {
  RequirePrometheus() {
    if (test::find_on_path("prometheus")) return;
    std::printf(
        "skipped: prometheus not found on PATH (Debian's prometheus package; scripts/setup.sh "
        "installs it)\n");
    std::exit(77);
  }
};
BOOST_TEST_GLOBAL_FIXTURE(RequirePrometheus);

double wall_clock_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

BOOST_AUTO_TEST_CASE(prometheus_scrapes_a_running_sink_and_answers_its_throughput) {
  // The source publishes at most kBatch messages per kIntervalMs: the flow lasts at least
  // (kMessages / kBatch - 1) * kIntervalMs = 8 s, several scrapes.
  constexpr std::size_t kMessages = 4000;
  constexpr std::size_t kBatch = 10;
  constexpr int kIntervalMs = 20;
  const std::string topic = "/default/prom-flow";
  connector_test::ConnectorRig rig("observability-prometheus", DANUBE_EMBEDDED_BROKER_PATH,
                                   SIMPLE_SINK_PATH, {topic + ":partitions=2"});
  auto sink = rig.connector("prom-sink", "[simple_sink]\ntopic = \"" + topic +
                                             "\"\nsubscription = \"prom-sink\"\nprint_every = 0\n");
  sink->start();

  PrometheusServer prometheus(*test::find_on_path("prometheus"), rig.dir.path() / "prometheus",
                              {"127.0.0.1:" + std::to_string(sink->http_port())}, 1s);
  const std::string processed =
      R"(danube_connector_messages_processed_total{connector="prom-sink"})";

  // Scraped before any message: the topic's series is there at 0, so increase() will count
  // the first message too.
  std::optional<double> zero_at;
  BOOST_TEST_REQUIRE(chaos::wait_until(
                         [&] {
                           if (prometheus.value(processed) != 0.0) return false;
                           zero_at = prometheus.value("timestamp(" + processed + ")");
                           return zero_at.has_value();
                         },
                         60s),
                     "Prometheus never held the sink's processed counter at 0\n"
                         << prometheus.log_tail());
  BOOST_TEST(prometheus.value(R"(up{job="danube-connector"})").value_or(0) == 1.0);

  chaos::ConnectorToml toml;
  toml.service_url = rig.broker.service_url();
  toml.connector_name = "prom-source";
  toml.extra = "[offsets]\nstate_dir = \"" + (rig.dir.path() / "source-state").string() +
               "\"\n[simple_source]\ntopic = \"" + topic +
               "\"\nmessage_count = " + std::to_string(kMessages) +
               "\nbatch_size = " + std::to_string(kBatch) +
               "\ninterval_ms = " + std::to_string(kIntervalMs) + "\npartitions = 2\n";
  chaos::write_text_file(rig.dir.path() / "source.toml", toml.render());
  chaos::ConnectorProcess source("prom-source", SIMPLE_SOURCE_PATH, rig.dir.path() / "source.toml",
                                 rig.dir.path());
  source.start();

  // The throughput query a dashboard would send, while messages flow.
  const std::string throughput = "sum(rate(" + processed + "[5s]))";
  double rate = 0;
  double processed_then = 0;
  BOOST_TEST_REQUIRE(chaos::wait_until(
                         [&] {
                           rate = prometheus.value(throughput).value_or(0);
                           if (rate <= 0) return false;
                           processed_then =
                               chaos::scrape_metric(sink->http_port(),
                                                    "danube_connector_messages_processed_total")
                                   .value_or(-1);
                           return true;
                         },
                         60s),
                     "no throughput from Prometheus\n"
                         << prometheus.log_tail());
  BOOST_TEST_MESSAGE("rate while flowing: " << rate << " msg/s, sink had processed "
                                            << processed_then << " of " << kMessages);
  BOOST_TEST(processed_then < double(kMessages), "the flow had ended before the answer");

  // Once everything went through and Prometheus scraped the last value, the increase over the
  // whole run, evaluated at that last sample, is exactly what the source sent: the series
  // started at 0, and nothing is extrapolated past the last sample.
  BOOST_TEST_REQUIRE(chaos::wait_until(
                         [&] {
                           return chaos::scrape_metric(sink->http_port(),
                                                       "danube_connector_messages_processed_total")
                                      .value_or(-1) == double(kMessages);
                         },
                         120s),
                     sink->log().tail());
  BOOST_TEST_REQUIRE(chaos::wait_until(
      [&] { return prometheus.value("sum(" + processed + ")") == double(kMessages); }, 30s));
  const auto last_at = prometheus.value("timestamp(" + processed + ")");
  BOOST_TEST_REQUIRE(last_at.has_value());
  const int range_seconds = static_cast<int>(std::ceil(*last_at - *zero_at)) + 2;
  const std::string range = "[" + std::to_string(range_seconds) + "s]";
  const auto increase = prometheus.value("sum(increase(" + processed + range + "))", *last_at);
  const auto mean_rate = prometheus.value("sum(rate(" + processed + range + "))", *last_at);
  BOOST_TEST_REQUIRE(increase.has_value());
  BOOST_TEST_REQUIRE(mean_rate.has_value());
  BOOST_TEST(*increase == double(kMessages), boost::test_tools::tolerance(1e-9));
  BOOST_TEST(*mean_rate * range_seconds == double(kMessages), boost::test_tools::tolerance(1e-9));
  BOOST_TEST_MESSAGE("increase over " << range << ": " << *increase << ", mean rate " << *mean_rate
                                      << " msg/s, the run took " << wall_clock_seconds() - *zero_at
                                      << " s");
}
