// danube-sink-http as a process between the embedded broker (a process) and an HTTP server in
// the test process; the test produces with the Danube client and reads the dead-letter topic.
#include <signal.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <mutex>
#include <thread>

#include "danube/runtime/run.hpp"
#include "http_sink_rig.hpp"
#include "promtool_check.hpp"
#include "request_auth.hpp"

using namespace danube;
using namespace danube::chaos;
using namespace danube::http_sink_test;

namespace {

HttpTestServer::Options counting_numbers() {
  HttpTestServer::Options options;
  options.count_records = [](const ReceivedRequest& request) { return numbers_in(request).size(); };
  return options;
}

// Waits until `expected` distinct records were accepted on `path` (checking the cheap count
// of delivered records first).
bool wait_accepted(const HttpTestServer& server, const std::string& path, std::size_t expected,
                   std::chrono::milliseconds timeout) {
  return chaos::wait_until(
      [&] {
        return server.delivered_records() >= expected &&
               accepted_count(server.requests(), path) >= expected;
      },
      timeout);
}

}  // namespace

BOOST_AUTO_TEST_CASE(each_body_format_with_its_authentication) {
  Rig rig("http-sink-formats",
          {"/default/hs-single:partitions=2", "/default/hs-array", "/default/hs-ndjson"});
  const std::string token = "bearer-secret-7c1f";
  const std::string password = "basic-secret-99ab";
  const std::string hmac_secret = "hmac-secret-d00d";
  const auto password_file = rig.dir.path() / "password";
  write_text_file(password_file, password + "\n");

  // The server checks every request's credentials and refuses (401) what does not match.
  HttpTestServer server(
      [&](const ReceivedRequest& request) -> Reply {
        bool authorised = false;
        if (request.path == "/single") {
          authorised = request.header("authorization") == "Bearer " + token;
        } else if (request.path == "/array") {
          authorised = request.header("authorization") ==
                       "Basic " + sink_http::base64_encode("danube:" + password);
        } else if (request.path == "/ndjson") {
          authorised = request.header("x-signature-256") ==
                       "sha256=" + sink_http::hmac_sha256_hex(hmac_secret, request.body);
        }
        return authorised ? Reply{} : Reply{401, "unauthorised", {}, {}};
      },
      counting_numbers());

  auto connector = rig.connector(
      "hs-formats",
      "[http_sink]\nrequest_timeout_ms = 5000\n[http_sink.headers]\nX-Team = \"payments\"\n" +
          route("/default/hs-single", server.url("/single"),
                "auth = { type = \"bearer\", token_env = \"HS_TEST_TOKEN\" }\n") +
          route("/default/hs-array", server.url("/array"),
                "body_format = \"json_array\"\nmax_batch_records = 25\nmethod = \"PUT\"\n"
                "auth = { type = \"basic\", username = \"danube\", password_file = \"" +
                    password_file.string() + "\" }\n") +
          route("/default/hs-ndjson", server.url("/ndjson"),
                "body_format = \"ndjson\"\n"
                "auth = { type = \"hmac_sha256\", secret_env = \"HS_TEST_HMAC\" }\n"));
  connector->set_environment({"HS_TEST_TOKEN=" + token, "HS_TEST_HMAC=" + hmac_secret});
  connector->start();

  constexpr std::size_t kPerTopic = 300;
  rig.produce("/default/hs-single", 2, 0, kPerTopic);
  rig.produce("/default/hs-array", 0, 0, kPerTopic);
  rig.produce("/default/hs-ndjson", 0, 0, kPerTopic);
  BOOST_TEST_REQUIRE(server.wait_for_delivered(3 * kPerTopic, 60s), connector->log().tail());

  const auto requests = server.requests();
  for (const std::string path : {"/single", "/array", "/ndjson"}) {
    const auto accepted = Accepted::on(requests, path);
    BOOST_TEST(accepted.distinct.size() == kPerTopic, path);
    BOOST_TEST(accepted.duplicates == 0u, path);
    BOOST_TEST(accepted.in_order(), path);
  }
  BOOST_TEST(Accepted::on(requests, "/single").first_seen_by_partition.size() == 2u);
  std::size_t array_requests = 0;
  for (const auto& request : requests) {
    BOOST_TEST(request.status == 200, request.path << " answered " << request.status);
    BOOST_TEST(request.header("x-team") == "payments");
    if (request.path == "/single") {
      BOOST_TEST(request.method == "POST");
      BOOST_TEST(request.header("content-type") == "application/json");
      BOOST_TEST(request.header("x-danube-topic") == "/default/hs-single");
      BOOST_TEST(request.header("idempotency-key") == request.header("x-danube-partition-topic") +
                                                          "@" + request.header("x-danube-offset"));
      BOOST_TEST(nlohmann::json::parse(request.body).is_object());
    } else if (request.path == "/array") {
      ++array_requests;
      BOOST_TEST(request.method == "PUT");
      const auto body = nlohmann::json::parse(request.body);
      BOOST_TEST(body.is_array());
      BOOST_TEST(body.size() <= 25u);
      BOOST_TEST(std::stoul(request.header("x-danube-record-count")) == body.size());
    } else {
      BOOST_TEST(request.header("content-type") == "application/x-ndjson");
      BOOST_TEST(request.body.back() == '\n');
    }
  }
  BOOST_TEST(array_requests >= kPerTopic / 25);
  BOOST_TEST(array_requests < kPerTopic, "json_array batches records");

  // The connector counts a record once the answer is back, just after the server counted it.
  BOOST_TEST(wait_until(
      [&] {
        return scrape_metric(connector->http_port(), "http_sink_records_delivered_total")
                   .value_or(-1) == 3.0 * kPerTopic;
      },
      10s));
  connector->signal(SIGTERM);
  BOOST_TEST(connector->wait(20s).clean(), connector->log().tail());
  for (const auto& secret : {token, password, hmac_secret}) {
    BOOST_TEST(grep_logs(connector->log_files(), secret).empty(), "a secret was logged");
  }
}

BOOST_AUTO_TEST_CASE(failures_are_retried_in_order_and_refused_records_dead_lettered) {
  Rig rig("http-sink-faults", {"/default/hs-faults:partitions=2", "/default/hs-batch-faults",
                               "/default/hs-faults-dlq"});
  auto dead_letters = rig.subscribe("/default/hs-faults-dlq");

  // Faults on demand, by record number: refused for good (400), refused for now (503, 429 with
  // Retry-After), answered too late for the sink's timeout; each only on the first attempts.
  std::mutex attempts_mutex;
  std::map<std::string, int> attempts;  // by path and record number
  const auto attempt = [&](const std::string& key) {
    std::lock_guard lock(attempts_mutex);
    return ++attempts[key];
  };
  const auto refused = [](std::size_t n) { return n % 17 == 5; };
  const auto bad_in_batch = [](std::size_t n) { return n % 23 == 4; };
  HttpTestServer server(
      [&](const ReceivedRequest& request) -> Reply {
        const auto numbers = numbers_in(request);
        if (request.path == "/batch") {
          for (const std::size_t n : numbers) {
            if (bad_in_batch(n)) return {422, "record " + std::to_string(n) + " is bad", {}, {}};
          }
          return {};
        }
        const std::size_t n = numbers.at(0);
        const int tries = attempt(request.path + std::to_string(n));
        if (refused(n)) return {400, "record " + std::to_string(n) + " is malformed", {}, {}};
        if (n % 11 == 3 && tries == 1) return {503, "busy", {}, {}};
        if ((n == 7 || n == 150) && tries == 1)
          return {429, "slow down", {{"Retry-After", "1"}}, {}};
        if ((n == 20 || n == 160) && tries == 1) return {200, "late", {}, 700ms};
        // Beyond the connector's own retries (retry_attempts = 1): back to the runtime, which
        // must not let the later records of the partition overtake it.
        if (n == 60 && tries <= 3) return {502, "bad gateway", {}, {}};
        return {};
      },
      counting_numbers());

  auto connector = rig.connector(
      "hs-faults",
      "[http_sink]\nrequest_timeout_ms = 300\nretry_backoff_ms = 20\nmax_retry_backoff_ms = 100\n" +
          route("/default/hs-faults", server.url("/single"), "retry_attempts = 1\n") +
          route("/default/hs-batch-faults", server.url("/batch"),
                "body_format = \"json_array\"\nmax_batch_records = 10\n"));
  connector->start();

  constexpr std::size_t kRecords = 200;
  rig.produce("/default/hs-faults", 2, 0, kRecords);
  rig.produce("/default/hs-batch-faults", 0, 0, kRecords);
  std::set<std::size_t> expected_refused, expected_bad;
  for (std::size_t n = 0; n < kRecords; ++n) {
    if (refused(n)) expected_refused.insert(n);
    if (bad_in_batch(n)) expected_bad.insert(n);
  }
  const std::size_t expected_dead = expected_refused.size() + expected_bad.size();

  std::vector<client::ReceivedMessage> dead;
  const bool all_dead = wait_until(
      [&] {
        for (auto& message : dead_letters->receive(100, 50ms)) {
          dead_letters->ack_async(message);
          dead.push_back(std::move(message));
        }
        return dead.size() >= expected_dead;
      },
      60s);
  BOOST_TEST(all_dead, dead.size() << " dead letters\n" << connector->log().tail());
  BOOST_TEST_REQUIRE(wait_accepted(server, "/single", kRecords - expected_refused.size(), 60s),
                     connector->log().tail());
  BOOST_TEST_REQUIRE(wait_accepted(server, "/batch", kRecords - expected_bad.size(), 30s),
                     connector->log().tail());

  const auto requests = server.requests();
  const auto single = Accepted::on(requests, "/single");
  BOOST_TEST(single.in_order(), "a partition's records arrived out of order");
  for (const std::size_t n : expected_refused)
    BOOST_TEST(!single.distinct.contains(n));
  const auto batch = Accepted::on(requests, "/batch");
  BOOST_TEST(batch.in_order());
  for (const std::size_t n : expected_bad)
    BOOST_TEST(!batch.distinct.contains(n));

  // The dead-letter topic holds exactly the refused records, each with the endpoint's answer.
  std::set<std::size_t> dead_single, dead_batch;
  for (const auto& message : dead) {
    const auto n = nlohmann::json::parse(message.payload).at("n").get<std::size_t>();
    const std::string origin = message.attributes.at("dlq.origin_topic");
    (origin == "/default/hs-faults" ? dead_single : dead_batch).insert(n);
    BOOST_TEST(message.attributes.at("dlq.error_kind") == "invalid_data");
    const std::string error = message.attributes.at("dlq.error_message");
    BOOST_TEST((error.find("HTTP 400") != std::string::npos ||
                error.find("HTTP 422") != std::string::npos),
               error);
    BOOST_TEST(error.find("record " + std::to_string(n)) != std::string::npos, error);
  }
  BOOST_TEST(dead.size() == expected_dead);
  BOOST_TEST((dead_single == expected_refused));
  BOOST_TEST((dead_batch == expected_bad));
  // Retry-After: 1 was honoured: the second request for record 7 came a second after the
  // first (the 429), not after the 20 ms backoff.
  std::vector<std::chrono::steady_clock::time_point> record_7;
  for (const auto& request : requests) {
    if (request.path == "/single" && numbers_in(request) == std::vector<std::size_t>{7}) {
      record_7.push_back(request.received_at);
    }
  }
  BOOST_TEST_REQUIRE(record_7.size() == 2u);
  BOOST_TEST((record_7[1] - record_7[0] >= 990ms));
  BOOST_TEST(scrape_metric(connector->http_port(), "http_sink_request_retries_total").value_or(0) >
             0.0);
  BOOST_TEST(
      scrape_metric(connector->http_port(), "http_sink_records_returned_total").value_or(0) >= 1.0);
  const auto metrics = http_get(connector->http_port(), "/metrics");
  BOOST_TEST_REQUIRE(metrics.has_value());
  danube::test::check_with_promtool(metrics->body, "danube-sink-http");
  print_figures("http_sink_faults", {{"requests", std::to_string(requests.size())},
                                     {"dead_letters", std::to_string(dead.size())},
                                     {"duplicates", std::to_string(single.duplicates)}});
  connector->signal(SIGTERM);
  BOOST_TEST(connector->wait(20s).clean(), connector->log().tail());
}

BOOST_AUTO_TEST_CASE(sink_sigkilled_mid_stream_loses_nothing) {
  Rig rig("http-sink-kill", {"/default/hs-kill:partitions=2"});
  HttpTestServer server([](const ReceivedRequest&) { return Reply{}; }, counting_numbers());
  auto connector = rig.connector(
      "hs-kill", route("/default/hs-kill", server.url("/kill"), "max_concurrency = 4\n"));
  connector->start();
  constexpr std::size_t kRecords = 6000;
  constexpr int kKills = 3;
  // Published while the sink runs, so that each kill lands in the middle of the stream.
  std::thread producer([&] {
    for (std::size_t first = 0; first < kRecords; first += 500)
      rig.produce("/default/hs-kill", 2, first, 500);
  });
  std::vector<std::uint64_t> delivered_at_kill;
  for (int kill = 1; kill <= kKills; ++kill) {
    const std::uint64_t threshold = kill * kRecords / (kKills + 1);
    BOOST_TEST_REQUIRE(server.wait_for_delivered(threshold, 60s), connector->log().tail());
    delivered_at_kill.push_back(server.delivered_records());
    BOOST_TEST_REQUIRE(connector->kill().signal == SIGKILL);
    connector->start();
  }
  producer.join();
  BOOST_TEST_REQUIRE(wait_accepted(server, "/kill", kRecords, 60s), connector->log().tail());
  const auto accepted = Accepted::on(server.requests(), "/kill");
  std::string at_kills;
  for (const auto delivered : delivered_at_kill)
    at_kills += (at_kills.empty() ? "" : ",") + std::to_string(delivered);
  print_figures("http_sink_sigkill", {{"records", std::to_string(kRecords)},
                                      {"kills", std::to_string(kKills)},
                                      {"delivered_at_kills", at_kills},
                                      {"lost", std::to_string(kRecords - accepted.distinct.size())},
                                      {"duplicates", std::to_string(accepted.duplicates)}});
  BOOST_TEST(accepted.distinct.size() == kRecords);
  BOOST_TEST(accepted.in_order());
  connector->signal(SIGTERM);
  BOOST_TEST(connector->wait(20s).clean(), connector->log().tail());
}

BOOST_AUTO_TEST_CASE(bad_configuration_exits_with_code_2_naming_the_key) {
  ScratchDirectory dir("http-sink-config");
  struct Case {
    std::string table;
    std::string named;  // what the error must mention
  };
  const std::vector<Case> cases = {
      {route("/default/x", "http://127.0.0.1:9/in", "body_format = \"xml\"\n"), "body_format"},
      {"[[http_sink.routes]]\nfrom = \"/default/x\"\n", "to"},
      {route("/default/x", "ftp://example/in"), "to"},
      {route("/default/x", "http://127.0.0.1:9/in",
             "auth = { type = \"bearer\", token_env = \"HS_TEST_UNSET_VARIABLE\" }\n"),
       "HS_TEST_UNSET_VARIABLE"},
      {route("/default/x", "http://127.0.0.1:9/in",
             "auth = { type = \"bearer\", token = \"written-in-the-file\" }\n"),
       "token"},
      {route("/default/x", "http://127.0.0.1:9/in", "max_concurrency = 0\n"), "max_concurrency"},
      {route("/default/x", "http://127.0.0.1:9/in", "colour = \"blue\"\n"), "colour"},
      {"[http_sink]\n", "routes"},
  };
  for (std::size_t i = 0; i < cases.size(); ++i) {
    ConnectorToml toml;
    toml.service_url = "http://127.0.0.1:9";  // never reached: the configuration stops first
    toml.connector_name = "hs-config-" + std::to_string(i);
    toml.extra = cases[i].table;
    const auto config = dir.path() / (toml.connector_name + ".toml");
    write_text_file(config, toml.render());
    ConnectorProcess connector(toml.connector_name, kConnectorBinary, config, dir.path());
    connector.start(/*wait_running=*/false);
    const auto status = connector.wait(20s);
    BOOST_TEST(status.exited, status.describe());
    BOOST_TEST(status.code == runtime::kExitConfigError, cases[i].table << connector.log().tail());
    BOOST_TEST(!connector.log().lines_with(cases[i].named).empty(), "'" << cases[i].named
                                                                        << "' not named:\n"
                                                                        << connector.log().tail());
    BOOST_TEST(connector.log().lines_with("written-in-the-file").empty());
  }
}
