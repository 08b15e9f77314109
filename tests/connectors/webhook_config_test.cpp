// danube-source-webhook's configuration as a process sees it: the Rust connector's
// connector.toml files run unchanged (only the environment points them at our broker and at
// free ports), and a bad configuration exits with code 2 naming the key.
#include <boost/test/unit_test.hpp>

#include "danube/runtime/run.hpp"
#include "webhook_support.hpp"

using namespace danube::webhook::test;
namespace chaos = danube::chaos;

namespace {

const std::filesystem::path kRustConfigs = RUST_CONFIGS_DIR;

// Runs the webhook on `config` until it exits; returns its status and its output.
std::pair<chaos::ExitStatus, std::string> run_to_exit(const chaos::ScratchDirectory& dir,
                                                      const std::string& name,
                                                      const std::string& config,
                                                      std::vector<std::string> environment = {}) {
  const auto file = dir.path() / (name + ".toml");
  chaos::write_text_file(file, config);
  const auto log_dir = dir.path() / name;
  std::filesystem::create_directories(log_dir);
  WebhookProcess process(file, log_dir, std::move(environment));
  process.start(/*wait_listening=*/false);
  const auto status = process.process().wait(20s);
  return {status, process.log().tail(50)};
}

const std::string kHeader =
    "danube_service_url = \"http://127.0.0.1:1\"\nconnector_name = \"bad\"\n"
    "[processing]\nmetrics_port = 0\n";
const std::string kRoute = "[[routes]]\nfrom = \"/hook\"\nto = \"/default/hooks\"\n";

}  // namespace

BOOST_AUTO_TEST_CASE(the_rust_connectors_configs_run_unchanged) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  chaos::ScratchDirectory dir("webhook-rust-config");
  // The Rust configs' namespaces and topics, created as their routes publish them.
  chaos::BrokerProcess broker(
      kBrokerBinary, dir.path(),
      {"--namespace", "stripe", "--namespace", "webhooks", "--topic",
       "/stripe/payments:partitions=2:reliable", "--topic",
       "/stripe/customers:partitions=2:non-reliable", "--topic", "/stripe/subscriptions:reliable",
       "--topic", "/webhooks/events:partitions=2:non-reliable", "--topic",
       "/webhooks/critical:reliable", "--log-level", "warn"});
  broker.start();
  // The configs and their schemas, as shipped; relative schema_file paths resolve against the
  // working directory, as they did for the Rust binary.
  std::filesystem::copy(kRustConfigs, dir.path() / "rust",
                        std::filesystem::copy_options::recursive);
  const std::vector<std::string> environment = {
      "DANUBE_SERVICE_URL=" + broker.service_url(),
      "SERVER_HOST=127.0.0.1",
      "SERVER_PORT=0",
      "DANUBE_CONNECT__PROCESSING__METRICS_PORT=0",
      "STRIPE_WEBHOOK_SECRET=whsec_rust",
  };
  const std::string sink_output = (dir.path() / "payments.txt").string();
  const auto sink_file = dir.path() / "sink.toml";
  chaos::write_text_file(
      sink_file, sink_toml(broker.service_url(), "payments-sink", "/stripe/payments", sink_output));
  chaos::ConnectorProcess sink("payments-sink", kSimpleSinkBinary, sink_file, dir.path());
  // Subscribed before the first event: a new subscription starts at the newest message.
  sink.start();

  for (const std::string name :
       {"connector.toml", "connector-no-schemas.toml", "endpoints-connector.toml"}) {
    BOOST_TEST_CONTEXT(name) {
      const auto log_dir = dir.path() / ("log-" + name);
      std::filesystem::create_directories(log_dir);
      WebhookProcess webhook(dir.path() / "rust" / name, log_dir, environment, dir.path() / "rust");
      webhook.start();
      // [retry] initial_interval_ms / max_interval_ms: read, ignored, said so.
      BOOST_TEST(webhook.log().lines_with("event=config_key_ignored").size() == 2u);
      HttpClient client;
      if (name == "connector.toml") {
        // The Rust config's first route: Stripe signatures, JSON Schema, reliable dispatch.
        const std::string event =
            R"({"id":"evt_rust","type":"charge.succeeded","object":"event","created":1700000000})";
        const auto answer =
            client.post(webhook.url("/webhooks/payments"), event,
                        {"Stripe-Signature: " + stripe_signature("whsec_rust", unix_now(), event),
                         "Content-Type: application/json"});
        BOOST_TEST(answer.status == 200, answer.body);
        BOOST_TEST(answer.json()["acknowledged"] == true);
        const auto invalid =
            client.post(webhook.url("/webhooks/payments"), R"({"id":"evt_x"})",
                        {"Stripe-Signature: " +
                         stripe_signature("whsec_rust", unix_now(), R"({"id":"evt_x"})")});
        BOOST_TEST(invalid.status == 400);
        BOOST_TEST(chaos::wait_until(
            [&] {
              const auto lines = read_lines(sink_output);
              return std::find(lines.begin(), lines.end(), canonical(event)) != lines.end();
            },
            20s));
      } else {
        // A route without a JSON Schema: the no-schemas config's, the old layout's string one.
        const std::string path =
            name == "connector-no-schemas.toml" ? "/webhooks/generic" : "/webhooks/subscriptions";
        const auto answer =
            client.post(webhook.url(path), R"({"rust":"layout"})",
                        name == "connector-no-schemas.toml"
                            ? std::vector<std::string>{}
                            : std::vector<std::string>{"Stripe-Signature: " +
                                                       stripe_signature("whsec_rust", unix_now(),
                                                                        R"({"rust":"layout"})")});
        BOOST_TEST(answer.status == 200, answer.body);
      }
      const auto status = webhook.stop();
      BOOST_TEST(status.clean(), status.describe() << "\n" << webhook.log().tail());
    }
  }
  sink.signal(SIGTERM);
  sink.wait(20s);
  curl_global_cleanup();
}

BOOST_AUTO_TEST_CASE(bad_configurations_exit_with_code_2_naming_the_key) {
  chaos::ScratchDirectory dir("webhook-bad-config");
  struct Case {
    std::string name;
    std::string config;
    std::vector<std::string> environment;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {"unknown-key",
       kHeader + "[server]\nprot = 8080\n" + kRoute,
       {},
       ":6: [server] prot: unknown key"},
      {"bad-port-variable",
       kHeader + kRoute,
       {"SERVER_PORT=eighty"},
       "config error: SERVER_PORT: [server] port: expected a port number 0..65535 (got "
       "\"eighty\")"},
      {"missing-secret",
       kHeader + "[auth]\ntype = \"hmac\"\nsecret_env = \"NOT_SET_ANYWHERE\"\n" + kRoute,
       {},
       ":7: [auth] secret_env: environment variable NOT_SET_ANYWHERE is not set"},
      {"bad-auth-type",
       kHeader + "[auth]\ntype = \"basic\"\n" + kRoute,
       {},
       ":6: [auth] type: must be none, apikey, hmac or jwt"},
      {"relative-path",
       kHeader + "[[routes]]\nfrom = \"hook\"\nto = \"/default/h\"\n",
       {},
       ":6: [[routes]][0] from: must start with '/'"},
      {"no-routes", kHeader, {}, "[[routes]]: at least one route is required"},
      {"sdk-key", kHeader + "[retry]\nmax_retries = 500\n" + kRoute, {}, "[retry] max_retries"},
  };
  for (const auto& test : cases) {
    BOOST_TEST_CONTEXT(test.name) {
      const auto [status, output] = run_to_exit(dir, test.name, test.config, test.environment);
      BOOST_TEST(status.exited);
      BOOST_TEST(status.code == danube::runtime::kExitConfigError, status.describe());
      BOOST_TEST(output.find(test.expected) != std::string::npos, output);
    }
  }
}
