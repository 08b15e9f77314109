// Metrics (names, labels, buckets as scraped over HTTP), the /metrics, /health and /ready
// server, and logging.
#include <fcntl.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "danube/connect/config_error.hpp"
#include "danube/services/http_server.hpp"
#include "danube/services/logging.hpp"
#include "danube/services/metrics.hpp"
#include "http_client.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;
using danube::connect::test::http_get;
using danube::connect::test::http_request;

namespace {

HttpServerOptions loopback() {
  HttpServerOptions options;
  options.bind_address = "127.0.0.1";
  options.port = 0;
  return options;
}

bool has_line(const std::string& text, const std::string& line) {
  std::istringstream in(text);
  for (std::string current; std::getline(in, current);) {
    if (current == line) return true;
  }
  BOOST_TEST_MESSAGE("missing line: " << line);
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(metrics)

BOOST_AUTO_TEST_CASE(names_and_labels_as_scraped) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto health = std::make_shared<HealthState>("orders-sink");
  ConnectorMetrics metrics("orders-sink", registry);
  const std::string orders = "/default/orders";
  metrics.record_received(orders, 3);
  metrics.record_processed(orders, 2);
  metrics.record_failed(orders, ErrorType::invalid_data, 2);
  metrics.record_failed(orders, ErrorType::ack);
  metrics.record_retried(orders);
  metrics.record_dead_lettered(orders, ErrorType::invalid_data);
  metrics.record_acked(orders, 2);
  metrics.record_reconnect(orders);
  metrics.observe_processing_duration(orders, std::chrono::milliseconds(3));
  metrics.observe_batch_size(orders, 40);
  metrics.observe_ack_latency(orders, std::chrono::milliseconds(1));
  metrics.observe_publish_latency("/default/other", std::chrono::seconds(2));
  const std::vector<double> ages{0.00005, 0.0002, 0.0009, 4.0};
  metrics.observe_end_to_end_latency(orders, ages);
  metrics.set_inflight(orders, 5);
  metrics.add_inflight(orders, -2);
  metrics.record_schema_cache_hit();
  metrics.record_schema_cache_miss();
  metrics.record_schema_cache_hit();
  metrics.set_health(HealthStatus::degraded);

  HttpServer server(loopback(), registry, health);
  const auto response = http_get(server.port(), "/metrics");
  BOOST_TEST(response.status == 200);
  BOOST_TEST(response.headers.find("text/plain; version=0.0.4") != std::string::npos);
  const std::string& text = response.body;
  const std::string labels = R"({connector="orders-sink",topic="/default/orders"})";
  BOOST_TEST(has_line(text, "# TYPE danube_connector_messages_received_total counter"));
  BOOST_TEST(has_line(text, "danube_connector_messages_received_total" + labels + " 3"));
  BOOST_TEST(has_line(text, "danube_connector_messages_processed_total" + labels + " 2"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_messages_failed_total{connector="orders-sink",error_type="invalid_data",topic="/default/orders"} 2)"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_messages_failed_total{connector="orders-sink",error_type="ack",topic="/default/orders"} 1)"));
  BOOST_TEST(has_line(text, "danube_connector_messages_retried_total" + labels + " 1"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_messages_dead_lettered_total{connector="orders-sink",error_type="invalid_data",topic="/default/orders"} 1)"));
  BOOST_TEST(has_line(text, "danube_connector_messages_acked_total" + labels + " 2"));
  BOOST_TEST(has_line(text, "danube_connector_reconnects_total" + labels + " 1"));
  BOOST_TEST(has_line(text, "# TYPE danube_connector_processing_duration_seconds histogram"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_processing_duration_seconds_bucket{connector="orders-sink",topic="/default/orders",le="0.0025"} 0)"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_processing_duration_seconds_bucket{connector="orders-sink",topic="/default/orders",le="0.005"} 1)"));
  BOOST_TEST(has_line(text, "danube_connector_processing_duration_seconds_count" + labels + " 1"));
  BOOST_TEST(has_line(text, "# TYPE danube_connector_batch_size histogram"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_batch_size_bucket{connector="orders-sink",topic="/default/orders",le="50"} 1)"));
  BOOST_TEST(has_line(text, "danube_connector_batch_size_sum" + labels + " 40"));
  BOOST_TEST(has_line(text, "danube_connector_ack_latency_seconds_count" + labels + " 1"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_publish_latency_seconds_bucket{connector="orders-sink",topic="/default/other",le="2.5"} 1)"));
  // Buckets from 100 us: the four ages fall below 0.1 ms, 0.25 ms, 1 ms and 5 s.
  for (const auto& [bound, count] : std::vector<std::pair<std::string, int>>{
           {"0.0001", 1}, {"0.00025", 2}, {"0.001", 3}, {"2.5", 3}, {"5", 4}}) {
    BOOST_TEST(has_line(
        text,
        R"(danube_connector_end_to_end_latency_seconds_bucket{connector="orders-sink",topic="/default/orders",le=")" +
            bound + "\"} " + std::to_string(count)));
  }
  BOOST_TEST(has_line(text, "danube_connector_end_to_end_latency_seconds_count" + labels + " 4"));
  BOOST_TEST(has_line(text, "# TYPE danube_connector_inflight_messages gauge"));
  BOOST_TEST(has_line(text, "danube_connector_inflight_messages" + labels + " 3"));
  // Nothing on Danube's client wire tells a consumer how far behind it is (docs/operating.md):
  // no lag gauge rather than a made-up one.
  BOOST_TEST(text.find("consumer_lag") == std::string::npos);
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_schema_cache_requests_total{connector="orders-sink",result="hit"} 2)"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_schema_cache_requests_total{connector="orders-sink",result="miss"} 1)"));
  BOOST_TEST(has_line(text, R"(danube_connector_health{connector="orders-sink"} 0.5)"));
  // error_type values only ever come from the fixed set.
  BOOST_TEST(text.find("error_type=\"Invalid") == std::string::npos);
}

BOOST_AUTO_TEST_CASE(two_connectors_share_one_registry) {
  auto registry = std::make_shared<prometheus::Registry>();
  ConnectorMetrics first("first", registry);
  ConnectorMetrics second("second", registry);
  first.record_processed("/default/t");
  second.record_processed("/default/t", 5);
  first.set_health(true);
  second.set_health(false);
  const auto text = render_metrics(*registry);
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_messages_processed_total{connector="first",topic="/default/t"} 1)"));
  BOOST_TEST(has_line(
      text,
      R"(danube_connector_messages_processed_total{connector="second",topic="/default/t"} 5)"));
  BOOST_TEST(has_line(text, R"(danube_connector_health{connector="first"} 1)"));
  BOOST_TEST(has_line(text, R"(danube_connector_health{connector="second"} 0)"));
}

BOOST_AUTO_TEST_CASE(concurrent_updates_are_counted_exactly) {
  auto registry = std::make_shared<prometheus::Registry>();
  ConnectorMetrics metrics("busy", registry);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < 2500; ++i) {
        metrics.record_received("/default/t" + std::to_string(i % 3));
        metrics.record_failed("/default/t0", static_cast<ErrorType>((t + i) % kErrorTypeCount));
      }
    });
  }
  for (auto& thread : threads)
    thread.join();
  double received = 0;
  double failed = 0;
  for (const auto& family : registry->Collect()) {
    for (const auto& metric : family.metric) {
      if (family.name == "danube_connector_messages_received_total")
        received += metric.counter.value;
      if (family.name == "danube_connector_messages_failed_total") failed += metric.counter.value;
    }
  }
  BOOST_TEST(received == 10000.0);
  BOOST_TEST(failed == 10000.0);
}

BOOST_AUTO_TEST_CASE(default_registry_is_one_per_process) {
  BOOST_TEST(default_metrics_registry().get() == default_metrics_registry().get());
  ConnectorMetrics metrics("default-user");
  BOOST_TEST(metrics.registry().get() == default_metrics_registry().get());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(http)

BOOST_AUTO_TEST_CASE(health_and_ready_transitions) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto state = std::make_shared<HealthState>("orders-sink");
  HttpServer server(loopback(), registry, state);
  BOOST_TEST(server.port() != 0);

  auto health = http_get(server.port(), "/health");
  auto ready = http_get(server.port(), "/ready");
  BOOST_TEST(health.status == 200);
  BOOST_TEST(ready.status == 503);  // not started yet
  auto body = nlohmann::json::parse(ready.body);
  BOOST_TEST(body["status"] == "healthy");
  BOOST_TEST(body["ready"] == false);
  BOOST_TEST(body["connector"] == "orders-sink");
  BOOST_TEST(health.headers.find("application/json") != std::string::npos);

  state->set_started(true);
  state->set_connected(true);
  ready = http_get(server.port(), "/ready");
  BOOST_TEST(ready.status == 200);
  BOOST_TEST(nlohmann::json::parse(ready.body)["ready"] == true);

  state->set_connected(false);
  BOOST_TEST(http_get(server.port(), "/ready").status == 503);
  BOOST_TEST(http_get(server.port(), "/health").status == 200);
  state->set_connected(true);

  // Paused by an operator: alive, but taking no work, so not ready.
  state->set_paused(true);
  health = http_get(server.port(), "/health");
  BOOST_TEST(health.status == 200);
  BOOST_TEST(nlohmann::json::parse(health.body)["paused"] == true);
  BOOST_TEST(http_get(server.port(), "/ready").status == 503);
  state->set_paused(false);
  BOOST_TEST(http_get(server.port(), "/ready").status == 200);

  state->set_status(HealthStatus::degraded, "1 failed check");
  ready = http_get(server.port(), "/ready");
  BOOST_TEST(ready.status == 200);
  body = nlohmann::json::parse(ready.body);
  BOOST_TEST(body["status"] == "degraded");
  BOOST_TEST(body["detail"] == "1 failed check");

  state->set_status(HealthStatus::unhealthy, "3 failed checks");
  BOOST_TEST(http_get(server.port(), "/health").status == 503);
  BOOST_TEST(http_get(server.port(), "/ready").status == 503);

  state->set_status(HealthStatus::healthy);
  state->mark_failed("fatal: sink gone");
  health = http_get(server.port(), "/health");
  BOOST_TEST(health.status == 503);
  body = nlohmann::json::parse(health.body);
  BOOST_TEST(body["status"] == "failed");
  BOOST_TEST(body["live"] == false);

  state->clear_failed();
  state->set_stopping(true);
  BOOST_TEST(http_get(server.port(), "/health").status == 200);
  BOOST_TEST(http_get(server.port(), "/ready").status == 503);
}

BOOST_AUTO_TEST_CASE(unknown_paths_and_methods) {
  HttpServer server(loopback(), std::make_shared<prometheus::Registry>(),
                    std::make_shared<HealthState>());
  BOOST_TEST(http_get(server.port(), "/").status == 404);
  BOOST_TEST(http_get(server.port(), "/metrics/extra").status == 404);
  BOOST_TEST(http_request(server.port(), "POST", "/metrics").status == 405);
  const auto head = http_request(server.port(), "HEAD", "/health");
  BOOST_TEST(head.status == 200);
  BOOST_TEST(head.body.empty());
}

// The admin paths exist before a runtime is attached (the run helpers attach it once the
// runtime is spawned): 503 then, and the method and authorization checks come first.
BOOST_AUTO_TEST_CASE(admin_paths_without_a_runtime) {
  auto options = loopback();
  options.admin_token = "s3cret";
  HttpServer server(options, std::make_shared<prometheus::Registry>(),
                    std::make_shared<HealthState>());
  BOOST_TEST(http_get(server.port(), "/status").status == 503);
  BOOST_TEST(http_request(server.port(), "POST", "/status").status == 405);
  const auto get_pause = http_get(server.port(), "/pause");
  BOOST_TEST(get_pause.status == 405);
  BOOST_TEST(get_pause.headers.find("Allow: POST") != std::string::npos);
  BOOST_TEST(http_request(server.port(), "PUT", "/resume").status == 405);
  const auto refused = http_request(server.port(), "POST", "/pause");
  BOOST_TEST(refused.status == 401);
  BOOST_TEST(refused.headers.find("WWW-Authenticate: Bearer") != std::string::npos);
  BOOST_TEST(
      http_request(server.port(), "POST", "/pause", {"Authorization: Bearer s3cre"}).status == 401);
  BOOST_TEST(
      http_request(server.port(), "POST", "/pause", {"Authorization: Basic czNjcmV0"}).status ==
      401);
  // Authorized, but nothing to pause yet.
  BOOST_TEST(
      http_request(server.port(), "POST", "/pause", {"Authorization: Bearer s3cret"}).status ==
      503);
}

BOOST_AUTO_TEST_CASE(stop_releases_the_port_promptly) {
  auto registry = std::make_shared<prometheus::Registry>();
  ConnectorMetrics metrics("stopper", registry);
  metrics.record_received("/default/t");
  auto server = std::make_unique<HttpServer>(loopback(), registry, std::make_shared<HealthState>());
  const auto port = server->port();
  BOOST_TEST(http_get(port, "/metrics").status == 200);
  const auto started = std::chrono::steady_clock::now();
  server->stop();
  const auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST_MESSAGE("stop after a scrape took "
                     << std::chrono::duration_cast<std::chrono::milliseconds>(elapsed).count()
                     << " ms");
  BOOST_TEST(!danube::connect::test::can_connect(port));
  server->stop();  // idempotent
  server.reset();
}

BOOST_AUTO_TEST_CASE(a_taken_port_is_a_clear_io_error) {
  HttpServer first(loopback(), std::make_shared<prometheus::Registry>(),
                   std::make_shared<HealthState>());
  auto options = loopback();
  options.port = first.port();
  try {
    HttpServer second(options, std::make_shared<prometheus::Registry>(),
                      std::make_shared<HealthState>());
    BOOST_FAIL("expected the second bind to fail");
  } catch (const ConnectorError& e) {
    BOOST_TEST(e.kind() == ErrorKind::io);
    BOOST_TEST(std::string(e.what()).find("127.0.0.1:" + std::to_string(first.port())) !=
               std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(options_come_from_config) {
  ConnectorConfig config;
  config.http.bind_address = "127.0.0.1";
  config.processing.metrics_port = 0;
  const auto options = HttpServerOptions::from_config(config);
  BOOST_TEST(options.bind_address == "127.0.0.1");
  BOOST_TEST(options.port == 0u);
  HttpServer server(options, nullptr, nullptr);  // defaults: the process registry, a fresh state
  BOOST_TEST(http_get(server.port(), "/metrics").status == 200);
}

BOOST_AUTO_TEST_CASE(body_escapes_detail) {
  HealthSnapshot snapshot;
  snapshot.connector = "c";
  snapshot.detail = "quote \" and newline \n and bad utf8 \xff";
  const auto body = nlohmann::json::parse(health_body(snapshot));
  BOOST_TEST(body["detail"].get<std::string>().find("quote \" and newline \n") == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(logging)

namespace {

// Runs `fn` with stderr redirected to a file and returns what was written.
template <class Fn>
std::string capture_stderr(Fn&& fn) {
  danube::connect::test::TempDir dir;
  const auto file = dir.path() / "stderr.txt";
  std::fflush(stderr);
  const int saved = ::dup(2);
  const int target = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  ::dup2(target, 2);
  ::close(target);
  fn();
  spdlog::default_logger()->flush();
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  std::ifstream in(file);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

BOOST_AUTO_TEST_CASE(json_lines_are_valid_json) {
  const auto output = capture_stderr([] {
    init_logging({"debug", LogFormat::json, "json-\"conn\"%"});
    spdlog::info("event=started topics={} note=\"{}\"", 2, "tab\there");
    spdlog::debug("event=detail");
    spdlog::trace("event=hidden");
  });
  std::istringstream lines(output);
  std::vector<nlohmann::json> entries;
  for (std::string line; std::getline(lines, line);)
    entries.push_back(nlohmann::json::parse(line));
  BOOST_REQUIRE(entries.size() == 2u);
  BOOST_TEST(entries[0]["level"] == "info");
  BOOST_TEST(entries[0]["connector"] == "json-\"conn\"%");
  BOOST_TEST(entries[0]["msg"] == "event=started topics=2 note=\"tab\there\"");
  BOOST_TEST(entries[1]["level"] == "debug");
  BOOST_TEST(entries[0]["ts"].get<std::string>().size() == 24u);
}

BOOST_AUTO_TEST_CASE(text_lines_and_levels) {
  const auto output = capture_stderr([] {
    init_logging({"warn", LogFormat::text, "text-conn"});
    spdlog::info("event=filtered");
    spdlog::warn("event=kept key=value");
  });
  BOOST_TEST(output.find("event=filtered") == std::string::npos);
  BOOST_TEST(output.find("warning  [text-conn] event=kept key=value") != std::string::npos);
  BOOST_CHECK_THROW(init_logging({"loud", LogFormat::text, "x"}), ConfigError);
  BOOST_TEST((parse_log_level("warning") == LogLevel::warn));
  BOOST_TEST((parse_log_level("OFF") == LogLevel::off));
  BOOST_TEST(!parse_log_level("verbose").has_value());
  ConnectorConfig config;
  config.processing.log_level = "error";
  config.processing.log_format = LogFormat::json;
  const auto options = LoggingOptions::from_config(config);
  BOOST_TEST(options.level == "error");
  BOOST_TEST((options.format == LogFormat::json));
  BOOST_TEST(options.connector_name == "default-connector");
}

BOOST_AUTO_TEST_SUITE_END()
