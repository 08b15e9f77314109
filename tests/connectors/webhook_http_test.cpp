// danube-source-webhook end to end: the real process on the embedded broker, driven over HTTP
// with libcurl, with simple_sink processes writing what reached Danube to files. Every status
// code, every authentication mode, the attributes and the payload rule, TLS, and the counters on
// the runtime's /metrics.
#include <boost/test/unit_test.hpp>
#include <cstdlib>

#include "danube/runtime/run.hpp"
#include "promtool_check.hpp"
#include "webhook_support.hpp"

using namespace danube::webhook::test;
namespace chaos = danube::chaos;

namespace {

const std::string kTopic = "/default/hooks";
const std::string kReliableTopic = "/default/hooks-reliable";
const std::string kApiKey = "api-key-123";
const std::string kGithubSecret = "github-secret";
const std::string kStripeSecret = "whsec_stripe";
const std::string kJwtSecret = "jwt-secret";

const std::string kRoutes = R"(
[server]
host = "127.0.0.1"
port = 0
max_body_size = 1024
ack_timeout_ms = 10000

[[routes]]
from = "/open"
to = "/default/hooks"
attribute_headers = ["X-GitHub-Event"]

[[routes]]
from = "/reliable"
to = "/default/hooks-reliable"
reliable_dispatch = true
routing_key = { header = "X-Tenant" }
attribute_headers = ["X-GitHub-Event"]

[[routes]]
from = "/apikey"
to = "/default/hooks"
[routes.auth]
type = "apikey"
secret_env = "HTTP_TEST_API_KEY"
header = "X-API-Key"

[[routes]]
from = "/github"
to = "/default/hooks"
[routes.auth]
type = "hmac"
secret_env = "HTTP_TEST_GITHUB_SECRET"
header = "X-Hub-Signature-256"

[[routes]]
from = "/stripe"
to = "/default/hooks"
[routes.auth]
type = "hmac"
secret_env = "HTTP_TEST_STRIPE_SECRET"
header = "Stripe-Signature"
timestamp_tolerance_seconds = 300

[[routes]]
from = "/jwt"
to = "/default/hooks"
[routes.auth]
type = "jwt"
secret_env = "HTTP_TEST_JWT_SECRET"

[[routes]]
from = "/json"
to = "/default/hooks"
require_json = true

[[routes]]
from = "/limited"
to = "/default/hooks"
[routes.rate_limit]
requests_per_second = 0.2
burst_size = 2

[[routes]]
from = "/payments"
to = "/default/hooks-schema"
)";

// One broker, one webhook process and two sinks for the whole suite.
struct Pipeline {
  Pipeline()
      : dir("webhook-http"),
        broker(kBrokerBinary, dir.path(),
               {"--topic", kTopic + ":non-reliable", "--topic", kReliableTopic + ":reliable",
                "--topic", "/default/hooks-schema:non-reliable", "--log-level", "warn"}) {
    broker.start();
    const auto schema_file = dir.path() / "payment.json";
    chaos::write_text_file(schema_file, R"({"type":"object","required":["id","amount"],
      "properties":{"id":{"type":"string","pattern":"^evt_"},"amount":{"type":"integer"}}})");
    const auto config = dir.path() / "webhook.toml";
    chaos::write_text_file(
        config, webhook_toml(broker.service_url(), "hooks", dir.path() / "state",
                             "[[schemas]]\ntopic = \"/default/hooks-schema\"\nsubject = "
                             "\"payments\"\nschema_type = \"json_schema\"\nschema_file = \"" +
                                 schema_file.string() + "\"\n" + kRoutes));
    webhook = std::make_unique<WebhookProcess>(
        config, dir.path(),
        std::vector<std::string>{
            "HTTP_TEST_API_KEY=" + kApiKey, "HTTP_TEST_GITHUB_SECRET=" + kGithubSecret,
            "HTTP_TEST_STRIPE_SECRET=" + kStripeSecret, "HTTP_TEST_JWT_SECRET=" + kJwtSecret});
    open_output = dir.path() / "open.txt";
    reliable_output = dir.path() / "reliable.txt";
    for (const auto& [name, topic, output] :
         {std::tuple{std::string("open-sink"), kTopic, open_output},
          std::tuple{std::string("reliable-sink"), kReliableTopic, reliable_output}}) {
      const auto file = dir.path() / (name + ".toml");
      chaos::write_text_file(file, sink_toml(broker.service_url(), name, topic, output));
      sinks.push_back(
          std::make_unique<chaos::ConnectorProcess>(name, kSimpleSinkBinary, file, dir.path()));
    }
    // Started together: their start-up times overlap.
    for (auto& sink : sinks)
      sink->start(/*wait_running=*/false);
    webhook->start();
    for (auto& sink : sinks) {
      BOOST_TEST_REQUIRE(sink->log().wait_for("event=runtime_running", 30s).has_value(),
                         sink->log().tail());
    }
    const auto runtime_http = webhook->log().wait_for("event=http_listening", 5s);
    metrics_port = static_cast<std::uint16_t>(
        std::stoi(chaos::log_field(*runtime_http, "address")
                      ->substr(chaos::log_field(*runtime_http, "address")->rfind(':') + 1)));
  }
  ~Pipeline() {
    if (webhook && webhook->running()) webhook->stop();
    for (auto& sink : sinks)
      if (sink->running()) sink->signal(SIGTERM);
    for (auto& sink : sinks)
      sink->wait(20s);
  }

  // Waits until `output` holds the record published for `payload`.
  bool arrives(const std::filesystem::path& output, const std::string& payload) {
    const std::string expected = canonical(payload);
    return chaos::wait_until(
        [&] {
          const auto lines = read_lines(output);
          return std::find(lines.begin(), lines.end(), expected) != lines.end();
        },
        20s);
  }

  chaos::ScratchDirectory dir;
  chaos::BrokerProcess broker;
  std::unique_ptr<WebhookProcess> webhook;
  std::vector<std::unique_ptr<chaos::ConnectorProcess>> sinks;
  std::filesystem::path open_output;
  std::filesystem::path reliable_output;
  std::uint16_t metrics_port = 0;
  HttpClient client;
};

Pipeline* pipeline = nullptr;

struct PipelineFixture {
  PipelineFixture() {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    owned = std::make_unique<Pipeline>();
    pipeline = owned.get();
  }
  ~PipelineFixture() {
    pipeline = nullptr;
    owned.reset();
    curl_global_cleanup();
  }
  std::unique_ptr<Pipeline> owned;
};

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(PipelineFixture);

BOOST_AUTO_TEST_CASE(a_reliable_post_is_answered_once_stored_and_reaches_the_sink) {
  auto& p = *pipeline;
  const std::string body = R"({"event":"push","n":1})";
  const auto started = chaos::Clock::now();
  const auto answer = p.client.post(p.webhook->url("/reliable"), body,
                                    {"Content-Type: application/json", "User-Agent: hookshot/1.0",
                                     "X-GitHub-Event: push", "X-Tenant: acme"});
  const auto latency_ms = chaos::millis_since(started);
  BOOST_TEST(answer.status == 200, answer.body);
  BOOST_TEST(answer.json()["acknowledged"] == true);
  BOOST_TEST(answer.json()["topic"] == kReliableTopic);
  BOOST_TEST(p.arrives(p.reliable_output, body));
  chaos::print_figures("webhook_reliable_post", {{"latency_ms", std::to_string(latency_ms)}});
  // simple_sink prints each record with its attributes.
  const auto printed = p.sinks[1]->log().wait_for("payload=", 10s);
  BOOST_TEST_REQUIRE(printed.has_value());
  for (const std::string attribute :
       {"webhook.source=hooks", "webhook.endpoint=/reliable", "webhook.ip=127.0.0.1",
        "webhook.user_agent=hookshot/1.0", "webhook.content_type=application/json",
        "webhook.header.x-github-event=push", "webhook.timestamp=20"}) {
    BOOST_TEST(printed->find(attribute) != std::string::npos, attribute << " in " << *printed);
  }
}

BOOST_AUTO_TEST_CASE(a_plain_post_is_accepted_and_non_json_is_wrapped_in_base64) {
  auto& p = *pipeline;
  const auto json = p.client.post(p.webhook->url("/open"), R"({"plain":true})");
  BOOST_TEST(json.status == 200, json.body);
  BOOST_TEST(json.json()["acknowledged"] == false);
  const auto text = p.client.post(p.webhook->url("/open"), "hello", {"Content-Type: text/plain"});
  BOOST_TEST(text.status == 200, text.body);
  BOOST_TEST(p.arrives(p.open_output, R"({"plain":true})"));
  BOOST_TEST(p.arrives(p.open_output, R"({"data":"aGVsbG8=","encoding":"base64","size":5})"));
}

BOOST_AUTO_TEST_CASE(api_key_authentication) {
  auto& p = *pipeline;
  BOOST_TEST(
      p.client.post(p.webhook->url("/apikey"), R"({"auth":"apikey"})", {"X-API-Key: " + kApiKey})
          .status == 200);
  const auto wrong = p.client.post(p.webhook->url("/apikey"), "{}", {"X-API-Key: nope"});
  BOOST_TEST(wrong.status == 401);
  BOOST_TEST(wrong.json()["error"] == "Unauthorized: invalid API key");
  BOOST_TEST(p.client.post(p.webhook->url("/apikey"), "{}").status == 401);
  BOOST_TEST(p.arrives(p.open_output, R"({"auth":"apikey"})"));
}

BOOST_AUTO_TEST_CASE(github_signatures) {
  auto& p = *pipeline;
  const std::string body = R"({"auth":"github"})";
  BOOST_TEST(p.client
                 .post(p.webhook->url("/github"), body,
                       {"X-Hub-Signature-256: " + github_signature(kGithubSecret, body)})
                 .status == 200);
  const auto bad = p.client.post(p.webhook->url("/github"), body,
                                 {"X-Hub-Signature-256: " + github_signature("other", body)});
  BOOST_TEST(bad.status == 401);
  BOOST_TEST(bad.json()["error"] == "Unauthorized: invalid signature");
  // Signed, then changed on the way.
  BOOST_TEST(p.client
                 .post(p.webhook->url("/github"), body + " ",
                       {"X-Hub-Signature-256: " + github_signature(kGithubSecret, body)})
                 .status == 401);
  BOOST_TEST(p.arrives(p.open_output, body));
}

BOOST_AUTO_TEST_CASE(stripe_signatures_and_their_timestamp) {
  auto& p = *pipeline;
  const std::string body = R"({"auth":"stripe"})";
  const auto now = unix_now();
  BOOST_TEST(p.client
                 .post(p.webhook->url("/stripe"), body,
                       {"Stripe-Signature: " + stripe_signature(kStripeSecret, now, body)})
                 .status == 200);
  BOOST_TEST(p.client
                 .post(p.webhook->url("/stripe"), body,
                       {"Stripe-Signature: " + stripe_signature("whsec_other", now, body)})
                 .status == 401);
  const auto expired =
      p.client.post(p.webhook->url("/stripe"), body,
                    {"Stripe-Signature: " + stripe_signature(kStripeSecret, now - 301, body)});
  BOOST_TEST(expired.status == 401);
  BOOST_TEST(expired.json()["error"] ==
             "Unauthorized: signature timestamp outside the tolerance of 300 s");
  BOOST_TEST(p.arrives(p.open_output, body));
}

BOOST_AUTO_TEST_CASE(jwt_bearer_tokens) {
  auto& p = *pipeline;
  const std::string body = R"({"auth":"jwt"})";
  const auto now = unix_now();
  const auto good = hs256_token(kJwtSecret, {{"sub", "sender"}, {"exp", now + 60}});
  BOOST_TEST(
      p.client.post(p.webhook->url("/jwt"), body, {"Authorization: Bearer " + good}).status == 200);
  const auto forged = hs256_token("guess", {{"sub", "sender"}, {"exp", now + 60}});
  const auto bad = p.client.post(p.webhook->url("/jwt"), body, {"Authorization: Bearer " + forged});
  BOOST_TEST(bad.status == 401);
  BOOST_TEST(bad.header("www-authenticate").value_or("") == "Bearer");
  const auto expired = hs256_token(kJwtSecret, {{"sub", "sender"}, {"exp", now - 3600}});
  BOOST_TEST(p.client.post(p.webhook->url("/jwt"), body, {"Authorization: Bearer " + expired})
                 .json()["error"] == "Unauthorized: token expired");
  BOOST_TEST(p.client.post(p.webhook->url("/jwt"), body, {"Authorization: Bearer x.y"}).status ==
             401);
  BOOST_TEST(p.arrives(p.open_output, body));
}

BOOST_AUTO_TEST_CASE(unknown_path_wrong_method_too_large_and_bad_json) {
  auto& p = *pipeline;
  const auto missing = p.client.post(p.webhook->url("/nowhere"), "{}");
  BOOST_TEST(missing.status == 404);
  BOOST_TEST(missing.json()["error"] == "Endpoint not found: /nowhere");
  const auto get = p.client.get(p.webhook->url("/open"));
  BOOST_TEST(get.status == 405);
  BOOST_TEST(get.header("allow").value_or("") == "POST");
  BOOST_TEST(p.client.request("PUT", p.webhook->url("/open"), "{}").status == 405);
  const auto large = p.client.post(p.webhook->url("/open"), std::string(1025, 'x'));
  BOOST_TEST(large.status == 413);
  // Chunked, without a Content-Length: counted while read.
  BOOST_TEST(
      p.client.post(p.webhook->url("/open"), std::string(4000, 'y'), {"Transfer-Encoding: chunked"})
          .status == 413);
  const auto not_json = p.client.post(p.webhook->url("/json"), "{oops");
  BOOST_TEST(not_json.status == 400);
  BOOST_TEST(not_json.json()["error"] == "Body is not valid JSON");
  // After a refused request the server still answers on a new connection.
  BOOST_TEST(p.client.post(p.webhook->url("/json"), R"({"ok":1})").status == 200);
}

BOOST_AUTO_TEST_CASE(schema_violations_are_answered_400_with_the_reason) {
  auto& p = *pipeline;
  const auto missing = p.client.post(p.webhook->url("/payments"), R"({"id":"evt_1"})");
  BOOST_TEST(missing.status == 400);
  BOOST_TEST(missing.json()["error"] ==
             "Schema validation failed: (root): missing required property 'amount'");
  const auto pattern = p.client.post(p.webhook->url("/payments"), R"({"id":"x","amount":1})");
  BOOST_TEST(pattern.json()["error"] ==
             "Schema validation failed: /id: does not match the pattern \"^evt_\"");
  BOOST_TEST(p.client.post(p.webhook->url("/payments"), "not json").status == 400);
  BOOST_TEST(p.client.post(p.webhook->url("/payments"), R"({"id":"evt_2","amount":5})").status ==
             200);
}

BOOST_AUTO_TEST_CASE(rate_limit_answers_429_with_retry_after) {
  auto& p = *pipeline;
  // Burst 2, then one token every 5 s.
  BOOST_TEST(p.client.post(p.webhook->url("/limited"), "{}").status == 200);
  BOOST_TEST(p.client.post(p.webhook->url("/limited"), "{}").status == 200);
  const auto limited = p.client.post(p.webhook->url("/limited"), "{}");
  BOOST_TEST(limited.status == 429);
  const auto retry_after = std::stoi(limited.header("retry-after").value_or("0"));
  BOOST_TEST(retry_after >= 4);
  BOOST_TEST(retry_after <= 5);
  BOOST_TEST(limited.json()["error"] == "Rate limit exceeded for endpoint /limited");
}

BOOST_AUTO_TEST_CASE(health_on_the_webhook_port_and_counters_on_the_runtime_metrics) {
  auto& p = *pipeline;
  BOOST_TEST(p.client.get(p.webhook->url("/health")).status == 200);
  BOOST_TEST(p.client.get(p.webhook->url("/ready")).json()["status"] == "ready");
  const auto metrics = chaos::http_get(p.metrics_port, "/metrics");
  BOOST_TEST_REQUIRE(metrics.has_value());
  for (const std::string series :
       {R"(webhook_requests_total{connector="hooks",endpoint="/open",status="405"})",
        R"(webhook_requests_total{connector="hooks",endpoint="/limited",status="429"})",
        R"(webhook_requests_total{connector="hooks",endpoint="unknown",status="404"})",
        R"(webhook_requests_total{connector="hooks",endpoint="/jwt",status="401"})",
        "webhook_request_duration_seconds_bucket"}) {
    BOOST_TEST(metrics->body.find(series) != std::string::npos, series);
  }
  BOOST_TEST(
      metrics->body.find(
          R"(webhook_requests_total{connector="hooks",endpoint="/apikey",status="200"} 1)") !=
      std::string::npos);
  danube::test::check_with_promtool(metrics->body, "danube-source-webhook");
  // No secret ever reaches the log.
  const auto log = p.webhook->log().tail(100000);
  for (const auto& secret : {kApiKey, kGithubSecret, kStripeSecret, kJwtSecret}) {
    BOOST_TEST(log.find(secret) == std::string::npos, "secret in the log");
  }
}

// TLS goes through civetweb, and Debian 12's civetweb 1.15 cannot load OpenSSL 3: there the
// connector must refuse the configuration (exit code 2, naming tls_cert_path and why) rather
// than serve plain HTTP or fail obscurely. With a civetweb that can, the request goes over TLS.
BOOST_AUTO_TEST_CASE(tls_is_served_or_refused_with_the_reason) {
  auto& p = *pipeline;
  const auto cert = p.dir.path() / "cert.pem";
  const auto key = p.dir.path() / "key.pem";
  const std::string command =
      "openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost "
      "-days 1 -keyout '" +
      key.string() + "' -out '" + cert.string() + "' >/dev/null 2>&1";
  BOOST_TEST_REQUIRE(std::system(command.c_str()) == 0);
  const auto config = p.dir.path() / "tls.toml";
  chaos::write_text_file(
      config, webhook_toml(p.broker.service_url(), "hooks-tls", p.dir.path() / "tls-state",
                           "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
                           "tls_cert_path = \"" +
                               cert.string() + "\"\ntls_key_path = \"" + key.string() +
                               "\"\n[[routes]]\nfrom = \"/secure\"\nto = \"" + kTopic + "\"\n"));
  std::filesystem::create_directories(p.dir.path() / "tls-log-dir");
  WebhookProcess tls(config, p.dir.path() / "tls-log-dir");
  tls.start(/*wait_listening=*/false);
  const auto alive = [&] { return tls.running(); };
  const auto listening = tls.log().wait_for("event=webhook_listening", 20s, 0, alive);
  if (!listening) {
    const auto status = tls.process().wait(20s);
    BOOST_TEST(status.code == danube::runtime::kExitConfigError, status.describe());
    BOOST_TEST(!tls.log().lines_with("[server] tls_cert_path: TLS is not available").empty(),
               tls.log().tail());
    chaos::print_figures("webhook_tls", {{"served", "no (civetweb cannot load OpenSSL 3)"}});
    return;
  }
  const auto address = *chaos::log_field(*listening, "address");
  const std::string url = "https://" + address + "/secure";
  const auto answer =
      p.client.request("POST", url, R"({"over":"tls"})", {}, 10s, /*insecure_tls=*/true);
  BOOST_TEST(answer.status == 200, answer.body);
  BOOST_TEST(p.arrives(p.open_output, R"({"over":"tls"})"));
  BOOST_TEST(tls.stop().clean());
}

BOOST_AUTO_TEST_CASE(sigterm_drains_and_exits_cleanly) {
  auto& p = *pipeline;
  const auto status = p.webhook->stop();
  BOOST_TEST(status.clean(), status.describe() << "\n" << p.webhook->log().tail());
  BOOST_TEST(p.webhook->log().lines_with("event=webhook_stopped").size() == 1u);
}
