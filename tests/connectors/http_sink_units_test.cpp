// danube-sink-http's parts without a broker: settings, signatures, bodies, Retry-After, and one
// batch delivered through the real HTTP client to a server in the test process.
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "batch_delivery.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/connector_context.hpp"
#include "http_sink_server.hpp"
#include "http_sink_settings.hpp"
#include "request_auth.hpp"
#include "request_body.hpp"
#include "response_policy.hpp"

using namespace danube;
using namespace danube::sink_http;
using namespace std::chrono_literals;
using http_sink_test::HttpTestServer;
using http_sink_test::ReceivedRequest;
using http_sink_test::Reply;

namespace {

connect::ConnectorConfig config_with(const std::string& toml) {
  connect::ConnectorConfig config;
  config.connector_name = "units";
  config.custom_sections = connect::ConfigSection::parse(toml, "units.toml");
  return config;
}

EnvironmentLookup environment(std::map<std::string, std::string> values) {
  return [values = std::move(values)](std::string_view name) -> std::optional<std::string> {
    const auto found = values.find(std::string(name));
    if (found == values.end()) return std::nullopt;
    return found->second;
  };
}

std::string config_error(const std::string& toml,
                         const EnvironmentLookup& lookup = environment({})) {
  try {
    read_http_sink_settings(config_with(toml), lookup);
  } catch (const connect::ConfigError& error) {
    return error.what();
  }
  return "no error";
}

std::vector<connect::SinkRecord> numbered_records(const std::string& partition_topic,
                                                  std::size_t count) {
  std::vector<connect::SinkRecord> records;
  for (std::size_t n = 0; n < count; ++n) {
    records.push_back(connect::SinkRecordBuilder()
                          .partition_topic(partition_topic)
                          .offset(n)
                          .json_payload({{"n", n}})
                          .build());
  }
  return records;
}

// A route to `server`, a client, metrics and a delivery, as the connector wires them.
struct Delivery {
  Delivery(const std::string& route_table, const std::string& url) {
    settings = read_http_sink_settings(
        config_with("[[http_sink.routes]]\nfrom = \"/default/units\"\nto = \"" + url + "\"\n" +
                    route_table),
        environment({}));
    client = std::make_unique<HttpClient>(8, "units");
    metrics = RouteMetrics::create(context.metrics(), "/default/units");
    delivery = std::make_unique<BatchDelivery>(
        *client, std::vector<RouteTarget>{{&settings.routes[0], &metrics}}, context.logger(),
        requests_in_flight_gauge(context.metrics()));
  }
  connect::ConnectorContext context = connect::ConnectorContext::standalone();
  HttpSinkSettings settings;
  std::unique_ptr<HttpClient> client;
  RouteMetrics metrics;
  std::unique_ptr<BatchDelivery> delivery;
};

}  // namespace

BOOST_AUTO_TEST_CASE(settings_with_defaults_inheritance_and_secrets) {
  const auto settings = read_http_sink_settings(
      config_with("[http_sink]\nrequest_timeout_ms = 1234\nmax_concurrency = 3\n"
                  "headers = { X-A = \"1\", X-B = \"2\" }\n"
                  "[[http_sink.routes]]\nfrom = \"/default/a\"\nto = \"http://h/a\"\n"
                  "headers = { x-b = \"3\" }\nauth = { type = \"bearer\", token_env = \"T\" }\n"
                  "[[http_sink.routes]]\nfrom = \"/default/b\"\nto = \"https://h/b\"\n"
                  "method = \"put\"\nbody_format = \"ndjson\"\nmax_concurrency = 5\n"
                  "ordering = \"relaxed\"\nsubscription_type = \"Shared\"\n"),
      environment({{"T", "tok"}}));
  BOOST_TEST_REQUIRE(settings.routes.size() == 2u);
  const Route& a = settings.routes[0];
  BOOST_TEST(a.request_timeout.count() == 1234);
  BOOST_TEST(a.max_concurrency == 3u);
  BOOST_TEST(a.auth.bearer_token == "tok");
  BOOST_TEST(a.content_type == "application/json");
  BOOST_TEST(a.consumer.subscription == "units");
  BOOST_TEST(a.headers.size() == 2u);
  BOOST_TEST(a.headers[1].second == "3", "the route's X-B replaces [http_sink]'s");
  const Route& b = settings.routes[1];
  BOOST_TEST(b.method == "PUT");
  BOOST_TEST(b.max_concurrency == 5u);
  BOOST_TEST((b.ordering == RequestOrdering::relaxed));
  BOOST_TEST(b.content_type == "application/x-ndjson");
  BOOST_TEST((b.consumer.subscription_type == connect::SubscriptionType::shared));
}

BOOST_AUTO_TEST_CASE(configuration_errors_name_their_key) {
  const std::string route = "[[http_sink.routes]]\nfrom = \"/default/a\"\nto = \"http://h/a\"\n";
  BOOST_TEST(config_error(route + "body_format = \"csv\"\n").find("body_format") !=
             std::string::npos);
  BOOST_TEST(config_error(route + "method = \"GET\"\n").find("method") != std::string::npos);
  BOOST_TEST(config_error(route + route).find("has a route already") != std::string::npos);
  BOOST_TEST(config_error(route + "auth = { type = \"basic\", username = \"u\" }\n")
                 .find("password_env") != std::string::npos);
  BOOST_TEST(config_error(route + "auth = { type = \"hmac_sha256\", secret = \"s\" }\n")
                 .find("secret_env") != std::string::npos);
  BOOST_TEST(config_error(route + "auth = { type = \"oauth\" }\n").find("type") !=
             std::string::npos);
  BOOST_TEST(config_error(route + "headers = { \"Bad Name\" = \"x\" }\n").find("header name") !=
             std::string::npos);
  BOOST_TEST(
      config_error("[[http_sink.routes]]\nfrom = \"nope\"\nto = \"http://h\"\n").find("from") !=
      std::string::npos);
}

BOOST_AUTO_TEST_CASE(urls_are_logged_without_credentials) {
  BOOST_TEST(loggable_url("https://user:pw@api.example.com/in?key=s3cret") ==
             "https://api.example.com/in");
  BOOST_TEST(loggable_url("http://h:8080/a/b#frag") == "http://h:8080/a/b");
  BOOST_TEST(loggable_url("http://h/path@x") == "http://h/path@x");
}

BOOST_AUTO_TEST_CASE(signatures_and_encodings) {
  // RFC 4231 test case 2.
  BOOST_TEST(hmac_sha256_hex("Jefe", "what do ya want for nothing?") ==
             "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  BOOST_TEST(base64_encode("danube:secret") == "ZGFudWJlOnNlY3JldA==");
  AuthSettings auth;
  auth.kind = AuthSettings::Kind::hmac_sha256;
  auth.hmac_secret = "Jefe";
  const auto headers = authentication_headers(auth, "what do ya want for nothing?");
  BOOST_TEST_REQUIRE(headers.size() == 1u);
  BOOST_TEST(
      headers[0] ==
      "X-Signature-256: sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

BOOST_AUTO_TEST_CASE(bodies_and_batches) {
  const std::vector<std::string_view> elements = {R"({"a":1})", R"({"b":2})"};
  BOOST_TEST(join_body(BodyFormat::json_array, elements) == R"([{"a":1},{"b":2}])");
  BOOST_TEST(join_body(BodyFormat::ndjson, elements) == "{\"a\":1}\n{\"b\":2}\n");
  const auto record =
      connect::SinkRecordBuilder().topic("/default/t").payload("{ \"a\" : 1 }").build();
  BOOST_TEST(encode_record(BodyFormat::single, record) == "{ \"a\" : 1 }");
  BOOST_TEST(encode_record(BodyFormat::ndjson, record) == R"({"a":1})");
  const auto text = connect::SinkRecordBuilder().topic("/default/t").payload("plain").build();
  BOOST_CHECK_THROW(encode_record(BodyFormat::json_array, text), connect::ConnectorError);

  Route route;
  route.body_format = BodyFormat::json_array;
  route.max_batch_records = 3;
  route.max_batch_bytes = 100;
  const std::vector<std::size_t> sizes = {10, 10, 10, 10, 60, 60, 500, 1};
  BOOST_TEST((chunk_sizes(route, sizes) == std::vector<std::size_t>{3, 2, 1, 1, 1}));
  route.body_format = BodyFormat::single;
  BOOST_TEST(chunk_sizes(route, sizes).size() == sizes.size());
}

BOOST_AUTO_TEST_CASE(retry_after_as_seconds_or_date) {
  const auto now = std::chrono::system_clock::from_time_t(1'700'000'000);
  BOOST_TEST(parse_retry_after("7", now)->count() == 7000);
  BOOST_TEST(parse_retry_after("0", now)->count() == 0);
  // 1700000000 is Tue, 14 Nov 2023 22:13:20 GMT.
  BOOST_TEST(parse_retry_after("Tue, 14 Nov 2023 22:13:50 GMT", now)->count() == 30000);
  BOOST_TEST(parse_retry_after("Tue, 14 Nov 2023 22:13:00 GMT", now)->count() == 0);
  BOOST_TEST(!parse_retry_after("soon", now).has_value());
  BOOST_TEST(!parse_retry_after("-5", now).has_value());

  RetrySettings retry;
  retry.backoff = 100ms;
  retry.max_backoff = 1000ms;
  std::mt19937_64 random(7);
  for (std::uint32_t attempt = 1; attempt <= 8; ++attempt) {
    const auto delay = backoff_delay(retry, attempt, random);
    const double base = std::min(100.0 * (1 << (attempt - 1)), 1000.0);
    BOOST_TEST(delay.count() >= static_cast<std::int64_t>(base * 0.5));
    BOOST_TEST(delay.count() < static_cast<std::int64_t>(base * 1.5) + 1);
  }
}

BOOST_AUTO_TEST_CASE(a_batch_with_retries_refusals_and_retry_after) {
  std::mutex mutex;
  std::map<std::size_t, int> attempts;
  HttpTestServer server([&](const ReceivedRequest& request) -> Reply {
    const auto n = nlohmann::json::parse(request.body).at("n").get<std::size_t>();
    std::lock_guard lock(mutex);
    const int tries = ++attempts[n];
    if (n == 2) return {400, "no thanks", {}, {}};
    if (n == 4 && tries == 1) return {429, "later", {{"Retry-After", "1"}}, {}};
    if (n == 5 && tries == 1) return {503, "busy", {}, {}};
    return {};
  });
  Delivery delivery("retry_backoff_ms = 10\n", server.url("/in"));
  const auto records = numbered_records("/default/units", 8);
  const auto started = std::chrono::steady_clock::now();
  const auto result = delivery.delivery->deliver(records);
  const auto elapsed = std::chrono::steady_clock::now() - started;
  BOOST_TEST(elapsed >= 1000ms, "Retry-After: 1 was honoured");
  for (std::size_t i = 0; i < records.size(); ++i) {
    if (i == 2) {
      BOOST_TEST_REQUIRE(result.error(i) != nullptr);
      BOOST_TEST(result.error(i)->is_invalid_data());
      BOOST_TEST(result.error(i)->message().find("HTTP 400") != std::string::npos);
      BOOST_TEST(result.error(i)->message().find("no thanks") != std::string::npos);
    } else {
      BOOST_TEST(result.ok(i), i);
    }
  }
  // One request at a time, in order: the endpoint saw 0..7 in order, 4 and 5 twice.
  std::vector<std::size_t> seen;
  for (const auto& request : server.requests()) {
    if (request.status == 200) seen.push_back(nlohmann::json::parse(request.body).at("n"));
  }
  BOOST_TEST((seen == std::vector<std::size_t>{0, 1, 3, 4, 5, 6, 7}));
}

BOOST_AUTO_TEST_CASE(exhausted_retries_return_the_records_and_defer_the_rest_of_the_partition) {
  HttpTestServer server([&](const ReceivedRequest& request) -> Reply {
    const auto n = nlohmann::json::parse(request.body).at("n").get<std::size_t>();
    if (request.header("x-danube-partition-topic") == "/default/units-part-0" && n == 1) {
      return {500, "down", {}, {}};
    }
    return {};
  });
  Delivery delivery("retry_attempts = 2\nretry_backoff_ms = 5\n", server.url("/in"));
  auto records = numbered_records("/default/units-part-0", 4);
  const auto other = numbered_records("/default/units-part-1", 3);
  records.insert(records.end(), other.begin(), other.end());
  const auto result = delivery.delivery->deliver(records);
  BOOST_TEST(result.ok(0));
  BOOST_TEST_REQUIRE(result.error(1) != nullptr);
  BOOST_TEST(result.error(1)->is_retryable());
  BOOST_TEST(result.deferred(2));
  BOOST_TEST(result.deferred(3));
  for (std::size_t i = 4; i < 7; ++i)
    BOOST_TEST(result.ok(i), "the other partition goes on");
  BOOST_TEST(delivery.metrics.retries->value() == 2.0);
  BOOST_TEST(server.request_count() == 1u + 3u + 3u);
}

BOOST_AUTO_TEST_CASE(a_refused_batch_is_split_to_find_the_refused_records) {
  HttpTestServer server([&](const ReceivedRequest& request) -> Reply {
    for (const auto& element : nlohmann::json::parse(request.body)) {
      if (element.at("n") == 3 || element.at("n") == 8) return {422, "bad element", {}, {}};
    }
    return {};
  });
  Delivery delivery("body_format = \"json_array\"\nmax_batch_records = 5\n", server.url("/in"));
  auto records = numbered_records("/default/units", 10);
  records.push_back(
      connect::SinkRecordBuilder().topic("/default/units").payload("not json").build());
  const auto result = delivery.delivery->deliver(records);
  for (std::size_t i = 0; i < 10; ++i) {
    if (i == 3 || i == 8) {
      BOOST_TEST_REQUIRE(result.error(i) != nullptr);
      BOOST_TEST(result.error(i)->is_invalid_data());
    } else {
      BOOST_TEST(result.ok(i), i);
    }
  }
  BOOST_TEST_REQUIRE(result.error(10) != nullptr);
  BOOST_TEST(result.error(10)->message().find("not JSON") != std::string::npos);
  // Two refused batches of 5, then each of their records alone: 2 + 10 requests.
  BOOST_TEST(server.request_count() == 12u);
}

BOOST_AUTO_TEST_CASE(no_answer_is_retryable_and_connections_are_reused) {
  // Nothing listens on port 9 (discard) here: a refused connection.
  Delivery refused("retry_attempts = 0\nconnect_timeout_ms = 500\n", "http://127.0.0.1:9/in");
  const auto records = numbered_records("/default/units", 2);
  const auto result = refused.delivery->deliver(records);
  BOOST_TEST_REQUIRE(result.error(0) != nullptr);
  BOOST_TEST(result.error(0)->is_retryable());
  BOOST_TEST(result.deferred(1));

  HttpTestServer server([&](const ReceivedRequest&) { return Reply{}; });
  Delivery delivery("", server.url("/in"));
  for (int round = 0; round < 3; ++round) {
    const auto batch = numbered_records("/default/units", 20);
    const auto ok = delivery.delivery->deliver(batch);
    BOOST_TEST(ok.all_succeeded());
  }
  BOOST_TEST(server.request_count() == 60u);
  // One partition, so one request at a time: every request went over the same connection.
  std::set<int> client_ports;
  for (const auto& request : server.requests())
    client_ports.insert(request.remote_port);
  BOOST_TEST(client_ports.size() == 1u);
  BOOST_TEST(delivery.metrics.request_seconds->count() == 60u);
}

BOOST_AUTO_TEST_CASE(concurrency_limits_requests_in_flight_per_route) {
  std::mutex mutex;
  std::condition_variable changed;
  int in_flight = 0;
  int most_in_flight = 0;
  int expected_at_once = 3;
  // Each request is held until `expected_at_once` are in flight together (or 2 s pass, when the
  // connector sends fewer at once): the overlap is an event, not a matter of timing.
  HttpTestServer server([&](const ReceivedRequest&) -> Reply {
    std::unique_lock lock(mutex);
    most_in_flight = std::max(most_in_flight, ++in_flight);
    changed.notify_all();
    changed.wait_for(lock, 2s, [&] { return most_in_flight >= expected_at_once; });
    --in_flight;
    return Reply{};
  });
  // Relaxed: one partition, yet up to max_concurrency requests at once.
  Delivery relaxed("ordering = \"relaxed\"\nmax_concurrency = 3\n", server.url("/in"));
  BOOST_TEST(relaxed.delivery->deliver(numbered_records("/default/units", 9)).all_succeeded());
  BOOST_TEST(most_in_flight == 3);
  // Strict: one request per partition; two partitions, so two at once.
  {
    std::lock_guard lock(mutex);
    most_in_flight = 0;
    expected_at_once = 2;
  }
  Delivery strict("max_concurrency = 3\n", server.url("/in"));
  auto records = numbered_records("/default/units-part-0", 4);
  const auto other = numbered_records("/default/units-part-1", 4);
  records.insert(records.end(), other.begin(), other.end());
  BOOST_TEST(strict.delivery->deliver(records).all_succeeded());
  BOOST_TEST(most_in_flight == 2);
}
