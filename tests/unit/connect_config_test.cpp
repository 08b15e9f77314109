// Configuration: seed defaults, TOML loading, environment overrides, strict validation with
// file/line/key in every message, and connector sections.
#include <boost/test/unit_test.hpp>

#include "danube/connect/config.hpp"
#include "danube/connect/config_loader.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using danube::connect::test::TempDir;

namespace {

const std::string kSource = "/etc/c.toml";
const std::string kHeader =
    "danube_service_url = \"http://broker:6650\"\n"  // line 1
    "connector_name = \"orders-sink\"\n";            // line 2

ConnectorConfig load(const std::string& toml, std::map<std::string, std::string> env = {},
                     const std::vector<std::string>& allowed = {}) {
  ConfigLoader loader;
  loader.environment(Environment::from_map(std::move(env)));
  for (const auto& name : allowed)
    loader.allow_section(name);
  return loader.load_string(toml, kSource);
}

// The text of the ConfigError that loading `toml` raises.
std::string load_error(const std::string& toml, std::map<std::string, std::string> env = {},
                       const std::vector<std::string>& allowed = {}) {
  try {
    load(toml, std::move(env), allowed);
  } catch (const ConfigError& e) {
    BOOST_TEST(e.kind() == ErrorKind::configuration);
    return e.what();
  }
  BOOST_FAIL("expected a ConfigError for:\n" + toml);
  return {};
}

bool contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return true;
  BOOST_TEST_MESSAGE("'" << text << "' does not contain '" << part << "'");
  return false;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(defaults)

BOOST_AUTO_TEST_CASE(programmatic_defaults_are_the_seeds) {
  const ConnectorConfig config;
  BOOST_TEST(config.danube_service_url == "http://localhost:6650");
  BOOST_TEST(config.connector_name == "default-connector");
  BOOST_TEST(config.retry.max_retries == 3u);
  BOOST_TEST(config.retry.retry_backoff_ms == 1000u);
  BOOST_TEST(config.retry.max_backoff_ms == 30000u);
  BOOST_TEST(config.retry.multiplier == 2.0);
  BOOST_TEST(config.retry.jitter);
  BOOST_TEST(config.processing.batch_size == 1000u);
  BOOST_TEST(config.processing.batch_timeout_ms == 1000u);
  BOOST_TEST(config.processing.poll_interval_ms == 100u);
  BOOST_TEST(config.processing.metrics_port == 9090u);
  BOOST_TEST(config.processing.log_level == "info");
  BOOST_TEST((config.processing.log_format == LogFormat::text));
  BOOST_TEST(config.processing.health_check_interval_ms == 30000u);
  BOOST_TEST(config.processing.health_check_failure_threshold == 3u);
  BOOST_TEST(config.schemas.empty());
  BOOST_TEST((config.dead_letter.policy == DeadLetterPolicy::dead_letter));
  BOOST_TEST(config.dead_letter_topic() == "/default/default-connector-dlq");
  BOOST_TEST(config.delivery.max_inflight_records == 10000u);
  BOOST_TEST(config.delivery.max_inflight_bytes == 64u * 1024 * 1024);
  BOOST_TEST((config.delivery.ordering == Ordering::strict));
  BOOST_TEST(config.delivery.max_inflight_sends == 64u);
  BOOST_TEST(config.delivery.max_inflight_acks == 32u);
  BOOST_TEST((config.delivery.on_gap == OnGap::report));
  BOOST_TEST(config.gap_file() == std::filesystem::path("./state/default-connector.gaps.jsonl"));
  BOOST_TEST(config.delivery.gap_file_max_bytes == 10u * 1024 * 1024);
  BOOST_TEST(config.delivery.gap_file_keep == 5u);
  BOOST_TEST(config.http.enabled);
  BOOST_TEST(config.http.bind_address == "0.0.0.0");
  BOOST_TEST(!config.auth.token.has_value());
  BOOST_TEST(!config.auth.has_tls_files());
  BOOST_TEST(config.shutdown.timeout_ms == 30000u);
  BOOST_TEST((config.supervision.on_fatal == OnFatal::exit));
  BOOST_TEST(config.supervision.max_restarts == 5u);
  BOOST_TEST(config.supervision.restart_backoff_ms == 1000u);
  BOOST_TEST(config.supervision.max_restart_backoff_ms == 30000u);
  BOOST_TEST(config.offsets.state_dir == "./state");
  BOOST_TEST(config.offsets.commit_interval_ms == 1000u);
  BOOST_CHECK_NO_THROW(config.validate());
}

BOOST_AUTO_TEST_CASE(minimal_file_gets_the_same_defaults) {
  const auto config = load(kHeader);
  BOOST_TEST(config.danube_service_url == "http://broker:6650");
  BOOST_TEST(config.connector_name == "orders-sink");
  BOOST_TEST(config.processing.batch_size == 1000u);
  BOOST_TEST(config.dead_letter_topic() == "/default/orders-sink-dlq");
  BOOST_TEST(config.origins.at("connector_name") == "/etc/c.toml:2");
  BOOST_TEST(!config.has_section("mqtt"));
}

BOOST_AUTO_TEST_CASE(every_section_is_read) {
  TempDir dir;
  const auto ca = dir.write("ca.pem", "ca");
  const auto cert = dir.write("cert.pem", "cert");
  const auto key = dir.write("key.pem", "key");
  const auto schema = dir.write("order.avsc", R"({"type":"string"})");
  const std::string toml = kHeader + R"(
[retry]
max_retries = 5
retry_backoff_ms = 200
max_backoff_ms = 5000
multiplier = 3
jitter = false

[processing]
batch_size = 500
batch_timeout_ms = 250
poll_interval_ms = 50
metrics_port = 0
log_level = "debug"
log_format = "json"
health_check_interval_ms = 1000
health_check_failure_threshold = 5

[[schemas]]
topic = "/default/orders"
subject = "orders-value"
schema_type = "avro"
schema_file = ")" + schema.string() +
                           R"("
auto_register = false
version_strategy = { pinned = 2 }

[[schemas]]
topic = "/default/names"
subject = "names-value"
schema_type = "String"
version_strategy = { minimum = 1 }

[dead_letter]
policy = "skip"
topic = "/default/orders-failed"

[delivery]
max_inflight_records = 100
max_inflight_bytes = 1048576
ordering = "relaxed"
max_inflight_sends = 8
max_inflight_acks = 4
on_gap = "fail"
gap_file = "/var/log/orders-gaps.jsonl"
gap_file_max_bytes = 65536
gap_file_keep = 3

[http]
enabled = false
bind_address = "127.0.0.1"

[auth]
tls_ca_file = ")" + ca.string() +
                           R"("
tls_cert_file = ")" + cert.string() +
                           R"("
tls_key_file = ")" + key.string() +
                           R"("
token = "secret-token"

[shutdown]
timeout_ms = 5000

[supervision]
on_fatal = "restart"
max_restarts = 2
restart_backoff_ms = 10
max_restart_backoff_ms = 100

[offsets]
state_dir = "/var/lib/conn"
commit_interval_ms = 250

[sink_buffer]
enabled = true
max_bytes = 268435456
segment_bytes = 1048576
)";
  const auto config = load(toml);
  BOOST_TEST(config.retry.max_retries == 5u);
  BOOST_TEST(config.retry.multiplier == 3.0);
  BOOST_TEST(!config.retry.jitter);
  BOOST_TEST(config.processing.batch_size == 500u);
  BOOST_TEST(config.processing.metrics_port == 0u);
  BOOST_TEST(config.processing.log_level == "debug");
  BOOST_TEST((config.processing.log_format == LogFormat::json));
  BOOST_TEST(config.processing.health_check_failure_threshold == 5u);
  BOOST_REQUIRE(config.schemas.size() == 2u);
  BOOST_TEST(config.schemas[0].topic == "/default/orders");
  BOOST_TEST((config.schemas[0].schema.schema_type == SchemaType::avro));
  BOOST_TEST(!config.schemas[0].schema.auto_register);
  BOOST_TEST((config.schemas[0].schema.version_strategy == VersionStrategy::pinned(2)));
  BOOST_TEST((config.schemas[1].schema.schema_type == SchemaType::string));
  BOOST_TEST(config.schemas[1].schema.auto_register);
  BOOST_TEST((config.schemas[1].schema.version_strategy == VersionStrategy::minimum(1)));
  BOOST_TEST(config.schema_for_topic("/default/names") == &config.schemas[1]);
  BOOST_TEST(config.schema_for_topic("/default/none") == nullptr);
  BOOST_TEST((config.dead_letter.policy == DeadLetterPolicy::skip));
  BOOST_TEST(config.dead_letter_topic() == "/default/orders-failed");
  BOOST_TEST(config.delivery.max_inflight_records == 100u);
  BOOST_TEST((config.delivery.ordering == Ordering::relaxed));
  BOOST_TEST(config.delivery.max_inflight_sends == 8u);
  BOOST_TEST(config.delivery.max_inflight_acks == 4u);
  BOOST_TEST((config.delivery.on_gap == OnGap::fail));
  BOOST_TEST(config.gap_file() == std::filesystem::path("/var/log/orders-gaps.jsonl"));
  BOOST_TEST(config.delivery.gap_file_max_bytes == 65536u);
  BOOST_TEST(config.delivery.gap_file_keep == 3u);
  BOOST_TEST(!config.http.enabled);
  BOOST_TEST(config.http.bind_address == "127.0.0.1");
  BOOST_TEST(config.auth.tls_ca_file.value() == ca);
  BOOST_TEST(config.auth.resolve_token().value() == "secret-token");
  BOOST_TEST(config.shutdown.timeout_ms == 5000u);
  BOOST_TEST((config.supervision.on_fatal == OnFatal::restart));
  BOOST_TEST(config.supervision.max_restart_backoff_ms == 100u);
  BOOST_TEST(config.offsets.state_dir == "/var/lib/conn");
  BOOST_TEST(config.offsets.commit_interval_ms == 250u);
  BOOST_TEST(config.origins.at("processing.batch_size") == "/etc/c.toml:12");
  BOOST_TEST(config.sink_buffer.enabled);
  BOOST_TEST(config.sink_buffer.max_bytes == 268435456u);
  BOOST_TEST(config.sink_buffer.segment_bytes == 1048576u);
  BOOST_TEST(config.sink_buffer_directory() ==
             std::filesystem::path("/var/lib/conn/orders-sink.buffer"));

  const auto described = config.describe();
  BOOST_TEST(described.find("secret-token") == std::string::npos);
  BOOST_TEST(described.find("auth.token=<redacted>") != std::string::npos);
  BOOST_TEST(described.find("processing.batch_size=500") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(seed_readme_layout_loads) {
  const auto config = load(R"(
danube_service_url = "http://localhost:6650"
connector_name = "my-connector"
[retry]
max_retries = 3
retry_backoff_ms = 1000
max_backoff_ms = 30000
[processing]
batch_size = 1000
batch_timeout_ms = 1000
poll_interval_ms = 100
metrics_port = 9090
log_level = "info"
[[schemas]]
topic = "/default/test-schema"
subject = "test-schema-value"
schema_type = "string"
schema_file = ""
auto_register = true
version_strategy = "latest"
)");
  BOOST_TEST(config.connector_name == "my-connector");
  BOOST_TEST(config.schemas.size() == 1u);
  BOOST_TEST(config.schemas[0].schema.schema_file.empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(environment)

BOOST_AUTO_TEST_CASE(from_env_requires_url_and_name) {
  try {
    ConnectorConfig::from_env(Environment::from_map({{"CONNECTOR_NAME", "x"}}));
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "DANUBE_SERVICE_URL is required"));
  }
  try {
    ConnectorConfig::from_env(Environment::from_map({{"DANUBE_SERVICE_URL", "http://b:6650"}}));
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "CONNECTOR_NAME is required"));
  }
  const auto config = ConnectorConfig::from_env(Environment::from_map(
      {{"DANUBE_SERVICE_URL", "http://b:6650"}, {"CONNECTOR_NAME", "env-conn"}}));
  BOOST_TEST(config.danube_service_url == "http://b:6650");
  BOOST_TEST(config.connector_name == "env-conn");
  BOOST_TEST(config.processing.batch_size == 1000u);
  BOOST_TEST(config.origins.at("connector_name") == "CONNECTOR_NAME");
}

BOOST_AUTO_TEST_CASE(short_names_override_the_file) {
  const auto config = load(kHeader + "[processing]\nlog_level = \"warn\"\n",
                           {{"DANUBE_SERVICE_URL", "https://other:7000"},
                            {"CONNECTOR_NAME", "renamed"},
                            {"LOG_LEVEL", "DEBUG"},
                            {"LOG_FORMAT", "json"}});
  BOOST_TEST(config.danube_service_url == "https://other:7000");
  BOOST_TEST(config.connector_name == "renamed");
  BOOST_TEST(config.processing.log_level == "debug");
  BOOST_TEST((config.processing.log_format == LogFormat::json));
}

BOOST_AUTO_TEST_CASE(every_sdk_key_has_a_generic_override) {
  TempDir dir;
  const auto token_file = dir.write("token", "  tok-from-file\n");
  const auto config = load(kHeader, {
                                        {"DANUBE_CONNECT__CONNECTOR_NAME", "generic-name"},
                                        {"CONNECTOR_NAME", "short-name"},
                                        {"DANUBE_CONNECT__RETRY__MAX_RETRIES", "7"},
                                        {"DANUBE_CONNECT__RETRY__MULTIPLIER", "1.5"},
                                        {"DANUBE_CONNECT__RETRY__JITTER", "false"},
                                        {"DANUBE_CONNECT__PROCESSING__BATCH_SIZE", "42"},
                                        {"DANUBE_CONNECT__PROCESSING__METRICS_PORT", "0"},
                                        {"DANUBE_CONNECT__DEAD_LETTER__POLICY", "fail"},
                                        {"DANUBE_CONNECT__DELIVERY__ORDERING", "relaxed"},
                                        {"DANUBE_CONNECT__HTTP__ENABLED", "0"},
                                        {"DANUBE_CONNECT__AUTH__TOKEN_FILE", token_file.string()},
                                        {"DANUBE_CONNECT__SHUTDOWN__TIMEOUT_MS", "1234"},
                                        {"DANUBE_CONNECT__SUPERVISION__ON_FATAL", "restart"},
                                        {"DANUBE_CONNECT__OFFSETS__STATE_DIR", "/tmp/s"},
                                    });
  BOOST_TEST(config.connector_name == "generic-name");  // the generic form wins
  BOOST_TEST(config.retry.max_retries == 7u);
  BOOST_TEST(config.retry.multiplier == 1.5);
  BOOST_TEST(!config.retry.jitter);
  BOOST_TEST(config.processing.batch_size == 42u);
  BOOST_TEST(config.processing.metrics_port == 0u);
  BOOST_TEST((config.dead_letter.policy == DeadLetterPolicy::fail));
  BOOST_TEST((config.delivery.ordering == Ordering::relaxed));
  BOOST_TEST(!config.http.enabled);
  BOOST_TEST(config.auth.resolve_token().value() == "tok-from-file");
  BOOST_TEST(config.shutdown.timeout_ms == 1234u);
  BOOST_TEST((config.supervision.on_fatal == OnFatal::restart));
  BOOST_TEST(config.offsets.state_dir == "/tmp/s");
  BOOST_TEST(config.origins.at("processing.batch_size") ==
             "DANUBE_CONNECT__PROCESSING__BATCH_SIZE");
}

BOOST_AUTO_TEST_CASE(bad_override_values_name_the_variable) {
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__PROCESSING__BATCH_SIZE", "ten"}}),
                      "config error: DANUBE_CONNECT__PROCESSING__BATCH_SIZE: [processing] "
                      "batch_size: expected an integer (got \"ten\")"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__PROCESSING__BATCH_SIZE", "0"}}),
                      "config error: DANUBE_CONNECT__PROCESSING__BATCH_SIZE: [processing] "
                      "batch_size: must be >= 1 (got 0)"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__RETRY__JITTER", "maybe"}}),
                      "DANUBE_CONNECT__RETRY__JITTER: [retry] jitter: expected a boolean"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__PROCESSING__METRICS_PORT", "-1"}}),
                      "DANUBE_CONNECT__PROCESSING__METRICS_PORT: [processing] metrics_port: "
                      "must be >= 0 (got -1)"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__DELIVERY__ORDERING", "chaos"}}),
                      "[delivery] ordering: must be one of \"strict\", \"relaxed\" (got "
                      "\"chaos\")"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__DELIVERY__ON_GAP", "ignore"}}),
                      "[delivery] on_gap: must be one of \"report\", \"fail\" (got "
                      "\"ignore\")"));
  BOOST_TEST(contains(load_error(kHeader, {{"LOG_LEVEL", "loud"}}),
                      "config error: LOG_LEVEL: [processing] log_level: must be one of trace"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__PROCESSING__BATCH_SIZ", "1"}}),
                      "DANUBE_CONNECT__PROCESSING__BATCH_SIZ: [processing] batch_siz: unknown "
                      "key (known keys: batch_size"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__NOPE__KEY", "1"}}),
                      "DANUBE_CONNECT__NOPE__KEY: [nope] key: unknown section [nope]"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__SCHEMAS__TOPIC", "/a/b"}}),
                      "DANUBE_CONNECT__SCHEMAS__TOPIC: [[schemas]]: cannot be set from the "
                      "environment"));
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__A__B__C", "1"}}),
                      "DANUBE_CONNECT__A__B__C: expected DANUBE_CONNECT__<SECTION>__<KEY>"));
  // Found by fuzz_toml_config: a ']' in the section part escaped as std::out_of_range.
  BOOST_TEST(contains(load_error(kHeader, {{"DANUBE_CONNECT__MQTT]__PORT", "1"}}),
                      "DANUBE_CONNECT__MQTT]__PORT: [mqtt]] port: unknown section [mqtt]]"));
}

BOOST_AUTO_TEST_CASE(connector_sections_take_typed_overrides) {
  const std::string toml = kHeader + "[mqtt]\nbroker_host = \"file-host\"\nbroker_port = 1883\n";
  const auto config = load(toml,
                           {{"DANUBE_CONNECT__MQTT__BROKER_PORT", "1884"},
                            {"DANUBE_CONNECT__MQTT__USE_TLS", "true"},
                            {"DANUBE_CONNECT__MQTT__TOPICS", "a/#, b/+"}},
                           {"mqtt"});
  const auto mqtt = config.section("mqtt");
  BOOST_TEST(mqtt.require_string("broker_host") == "file-host");
  BOOST_TEST(mqtt.require_integer("broker_port") == 1884);
  BOOST_TEST(mqtt.require_bool("use_tls"));
  BOOST_TEST((mqtt.require_string_array("topics") == std::vector<std::string>{"a/#", "b/+"}));
  BOOST_TEST(mqtt.location("broker_port") == "DANUBE_CONNECT__MQTT__BROKER_PORT");
  BOOST_TEST(mqtt.location("broker_host") == "/etc/c.toml:4");

  const auto bad = load(toml, {{"DANUBE_CONNECT__MQTT__BROKER_PORT", "x"}}, {"mqtt"});
  try {
    bad.section("mqtt").require_integer("broker_port");
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "config error: DANUBE_CONNECT__MQTT__BROKER_PORT: [mqtt] broker_port: expected "
               "an integer (got \"x\")");
  }

  // A declared section can come from the environment alone.
  const auto env_only =
      load(kHeader, {{"DANUBE_CONNECT__MQTT__BROKER_HOST", "env-host"}}, {"mqtt"});
  BOOST_TEST(env_only.has_section("mqtt"));
  BOOST_TEST(env_only.section("mqtt").require_string("broker_host") == "env-host");
  BOOST_TEST((env_only.section("mqtt").keys() == std::vector<std::string>{"broker_host"}));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(validation)

// Each bad input with the exact location, key and problem its message must name.
BOOST_AUTO_TEST_CASE(every_error_names_file_line_and_key) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {kHeader + "[sink_buffer]\nmax_bytes = 1048576\nsegment_bytes = 2097152\n",
       "[sink_buffer] max_bytes: must be >= segment_bytes (2097152) (got 1048576)"},
      {kHeader + "[sink_buffer]\nsegment_bytes = 1024\n",
       "/etc/c.toml:4: [sink_buffer] segment_bytes: must be >= 65536 (got 1024)"},
      {kHeader + "[sink_buffer]\nenable = true\n",
       "/etc/c.toml:4: [sink_buffer] enable: unknown key (known keys: enabled, max_bytes"},
      {kHeader + "[processing]\nbatch_size = 0\n",
       "config error: /etc/c.toml:4: [processing] batch_size: must be >= 1 (got 0)"},
      {kHeader + "[delivery]\ngap_file_max_bytes = 100\n",
       "/etc/c.toml:4: [delivery] gap_file_max_bytes: must be >= 1024 (got 100)"},
      {kHeader + "[delivery]\ngap_file_keep = 0\n",
       "/etc/c.toml:4: [delivery] gap_file_keep: must be >= 1 (got 0)"},
      {kHeader + "[delivery]\nmax_inflight_acks = 0\n",
       "/etc/c.toml:4: [delivery] max_inflight_acks: must be >= 1 (got 0)"},
      {kHeader + "[processing]\nbatch_size = 2000000\n",
       "/etc/c.toml:4: [processing] batch_size: must be <= 1000000 (got 2000000)"},
      {kHeader + "[processing]\nbatch_size = \"10\"\n",
       "/etc/c.toml:4: [processing] batch_size: expected an integer (got string \"10\")"},
      {kHeader + "[processing]\nbatch_size = -5\n",
       "/etc/c.toml:4: [processing] batch_size: must be >= 0 (got -5)"},
      {kHeader + "[processing]\nmetrics_port = 70000\n",
       "/etc/c.toml:4: [processing] metrics_port: must be <= 65535 (got 70000)"},
      {kHeader + "[processing]\nbatch_sise = 10\n",
       "/etc/c.toml:4: [processing] batch_sise: unknown key (known keys: batch_size, "
       "batch_timeout_ms"},
      {kHeader + "[processing]\nlog_level = \"loud\"\n",
       "/etc/c.toml:4: [processing] log_level: must be one of trace, debug, info, warn, error, "
       "critical, off (got \"loud\")"},
      {kHeader + "[processing]\nlog_format = \"xml\"\n",
       "/etc/c.toml:4: [processing] log_format: must be one of \"text\", \"json\" (got \"xml\")"},
      {kHeader + "[processing]\npoll_interval_ms = 0\n",
       "/etc/c.toml:4: [processing] poll_interval_ms: must be >= 1 (got 0)"},
      {kHeader + "[processing]\nhealth_check_failure_threshold = 0\n",
       "/etc/c.toml:4: [processing] health_check_failure_threshold: must be >= 1 (got 0)"},
      {kHeader + "[retry]\nmax_retries = 500\n",
       "/etc/c.toml:4: [retry] max_retries: must be <= 100 (got 500)"},
      {kHeader + "[retry]\nmultiplier = 0.5\n",
       "/etc/c.toml:4: [retry] multiplier: must be between 1.0 and 10.0"},
      {kHeader + "[retry]\nretry_backoff_ms = 5000\nmax_backoff_ms = 100\n",
       "/etc/c.toml:5: [retry] max_backoff_ms: must be >= retry_backoff_ms (5000) (got 100)"},
      {kHeader + "[retry]\njitter = \"yes\"\n",
       "/etc/c.toml:4: [retry] jitter: expected a boolean (got string \"yes\")"},
      {kHeader + "[dead_letter]\npolicy = \"dlq\"\n",
       "/etc/c.toml:4: [dead_letter] policy: must be one of \"dead_letter\", \"fail\", \"skip\" "
       "(got \"dlq\")"},
      {kHeader + "[dead_letter]\ntopic = \"/default/bad.topic\"\n",
       "/etc/c.toml:4: [dead_letter] topic: not a valid topic name"},
      {kHeader + "[delivery]\nmax_inflight_records = 0\n",
       "/etc/c.toml:4: [delivery] max_inflight_records: must be >= 1 (got 0)"},
      {kHeader + "[delivery]\nmax_inflight_bytes = 10\n",
       "/etc/c.toml:4: [delivery] max_inflight_bytes: must be >= 1024 (got 10)"},
      {kHeader + "[delivery]\nordering = \"any\"\n",
       "/etc/c.toml:4: [delivery] ordering: must be one of \"strict\", \"relaxed\""},
      {kHeader + "[http]\nbind_address = \"\"\n",
       "/etc/c.toml:4: [http] bind_address: must not be empty"},
      {kHeader + "[auth]\ntls_ca_file = \"/nonexistent/ca.pem\"\n",
       "/etc/c.toml:4: [auth] tls_ca_file: file not found: /nonexistent/ca.pem"},
      {kHeader + "[auth]\ntoken = \"\"\n", "/etc/c.toml:4: [auth] token: must not be empty"},
      {kHeader + "[shutdown]\ntimeout_ms = 0\n",
       "/etc/c.toml:4: [shutdown] timeout_ms: must be >= 1 (got 0)"},
      {kHeader + "[supervision]\non_fatal = \"panic\"\n",
       "/etc/c.toml:4: [supervision] on_fatal: must be one of \"exit\", \"restart\""},
      {kHeader + "[supervision]\nmax_restarts = 5000\n",
       "/etc/c.toml:4: [supervision] max_restarts: must be <= 1000 (got 5000)"},
      {kHeader + "[supervision]\nrestart_backoff_ms = 500\nmax_restart_backoff_ms = 100\n",
       "/etc/c.toml:5: [supervision] max_restart_backoff_ms: must be >= restart_backoff_ms"},
      {kHeader + "[offsets]\nstate_dir = \"\"\n",
       "/etc/c.toml:4: [offsets] state_dir: must not be empty"},
      {kHeader + "[offsets]\ncommit_interval_ms = 4000000\n",
       "/etc/c.toml:4: [offsets] commit_interval_ms: must be <= 3600000 (got 4000000)"},
      {kHeader + "mqtt_host = \"x\"\n",
       "/etc/c.toml:3: mqtt_host: unknown key (a connector's own sections must be declared"},
      {kHeader + "[mqtt]\nhost = \"x\"\n", "/etc/c.toml:3: mqtt: unknown key"},
      {kHeader + "retry = 5\n", "/etc/c.toml:3: [retry]: expected a table (got integer 5)"},
      {kHeader + "schemas = 5\n", "/etc/c.toml:3: schemas: expected an array of tables"},
      {"danube_service_url = \"broker:6650\"\nconnector_name = \"c\"\n",
       "/etc/c.toml:1: danube_service_url: must start with http:// or https://"},
      {"danube_service_url = \"http://:6650\"\nconnector_name = \"c\"\n",
       "/etc/c.toml:1: danube_service_url: has no host"},
      {"danube_service_url = \"http://b:99999\"\nconnector_name = \"c\"\n",
       "/etc/c.toml:1: danube_service_url: has an invalid port"},
      {"danube_service_url = 6650\nconnector_name = \"c\"\n",
       "/etc/c.toml:1: danube_service_url: expected a string (got integer 6650)"},
      {"danube_service_url = \"http://b:6650\"\nconnector_name = \"\"\n",
       "/etc/c.toml:2: connector_name: must not be empty"},
      {"danube_service_url = \"http://b:6650\"\nconnector_name = \"has space\"\n",
       "/etc/c.toml:2: connector_name: must not contain whitespace"},
      {"danube_service_url = \"http://b:6650\"\nconnector_name = \"v1.2\"\n",
       "/etc/c.toml:2: [dead_letter] topic: the default \"/default/v1.2-dlq\" derived from "
       "connector_name is not a valid topic name"},
      {"connector_name = \"c\"\n",
       "/etc/c.toml: danube_service_url: missing required key (set it in the file or with "
       "DANUBE_SERVICE_URL)"},
      {kHeader + "[processing\nbatch_size = 1\n", "config error: /etc/c.toml:3: "},
      {kHeader + "[[schemas]]\nsubject = \"s\"\nschema_type = \"string\"\n",
       "/etc/c.toml:3: [[schemas]][0] topic: missing required key"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nschema_type = \"string\"\n",
       "/etc/c.toml:3: [[schemas]][0] subject: missing required key"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\n",
       "/etc/c.toml:3: [[schemas]][0] schema_type: missing required key"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"xml\"\n",
       "/etc/c.toml:6: [[schemas]][0] schema_type: must be one of \"json_schema\""},
      {kHeader + "[[schemas]]\ntopic = \"t\"\nsubject = \"s\"\nschema_type = \"string\"\n",
       "/etc/c.toml:4: [[schemas]][0] topic: not a valid topic name"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"avro\"\n",
       "/etc/c.toml:3: [[schemas]][0] schema_file: required for schema_type avro"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"avro\"\n"
                 "schema_file = \"/nonexistent.avsc\"\n",
       "/etc/c.toml:7: [[schemas]][0] schema_file: file not found: /nonexistent.avsc"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"string\"\n"
                 "version_strategy = \"pinned\"\n",
       "/etc/c.toml:7: [[schemas]][0] version_strategy: must be \"latest\", { pinned = N } or "
       "{ minimum = N } (got \"pinned\")"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"string\"\n"
                 "version_strategy = { pinned = 0 }\n",
       "/etc/c.toml:7: [[schemas]][0] version_strategy: the version must be an integer >= 1"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"string\"\n"
                 "colour = \"red\"\n",
       "/etc/c.toml:7: [[schemas]][0] colour: unknown key (known keys: topic, subject"},
      {kHeader +
           "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"string\"\n"
           "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s2\"\nschema_type = \"string\"\n",
       "/etc/c.toml:8: [[schemas]][1] topic: topic \"/default/t\" already has a [[schemas]] "
       "entry"},
      {kHeader + "[[schemas]]\ntopic = \"/default/t\"\nsubject = \"s\"\nschema_type = \"string\"\n"
                 "message_type = \"a.B\"\n",
       "/etc/c.toml:7: [[schemas]][0] message_type: only applies to schema_type protobuf"},
  };
  for (const auto& [toml, expected] : cases) {
    const auto message = load_error(toml);
    BOOST_TEST(contains(message, expected), "input:\n" << toml);
  }
}

BOOST_AUTO_TEST_CASE(auth_pairs_and_exclusions) {
  TempDir dir;
  const auto cert = dir.write("cert.pem", "c");
  const auto token = dir.write("token", "t");
  BOOST_TEST(contains(load_error(kHeader + "[auth]\ntls_cert_file = \"" + cert.string() + "\"\n"),
                      "/etc/c.toml:3: [auth] tls_key_file: tls_cert_file and tls_key_file must "
                      "be set together"));
  BOOST_TEST(contains(
      load_error(kHeader + "[auth]\ntoken = \"abc\"\ntoken_file = \"" + token.string() + "\"\n"),
      "/etc/c.toml:5: [auth] token_file: token and token_file are mutually "
      "exclusive"));
  // The token itself never appears in an error message.
  const auto message = load_error(kHeader + "[auth]\ntoken = \"hunter2\"\nbogus = 1\n");
  BOOST_TEST(message.find("hunter2") == std::string::npos);
}

// The admin token comes from a variable or a file the file names, never from the file itself.
BOOST_AUTO_TEST_CASE(admin_token_from_a_variable_or_a_file) {
  TempDir dir;
  const auto token_file = dir.write("admin-token", "\n  from-file \n");
  const auto empty_file = dir.write("empty-token", " \n");

  BOOST_TEST(!load(kHeader).resolve_admin_token(Environment{}).has_value());

  const auto by_variable = load(kHeader + "[http]\nadmin_token_env = \"ADMIN_TOKEN\"\n");
  BOOST_TEST(by_variable.http.admin_token_env == "ADMIN_TOKEN");
  BOOST_TEST(by_variable.resolve_admin_token(Environment::from_map({{"ADMIN_TOKEN", " tok \n"}}))
                 .value() == "tok");
  const auto name_error = [&](const Environment& environment) {
    try {
      by_variable.resolve_admin_token(environment);
    } catch (const ConfigError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  BOOST_TEST(contains(name_error(Environment{}),
                      "/etc/c.toml:4: [http] admin_token_env: the environment variable "
                      "ADMIN_TOKEN is not set"));
  BOOST_TEST(contains(name_error(Environment::from_map({{"ADMIN_TOKEN", "  "}})),
                      "the environment variable ADMIN_TOKEN is empty"));

  const auto by_file =
      load(kHeader + "[http]\nadmin_token_file = \"" + token_file.string() + "\"\n");
  BOOST_TEST(by_file.resolve_admin_token(Environment{}).value() == "from-file");
  const auto empty = load(kHeader + "[http]\nadmin_token_file = \"" + empty_file.string() + "\"\n");
  try {
    empty.resolve_admin_token(Environment{});
    BOOST_FAIL("expected an error for an empty token file");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "[http] admin_token_file: " + empty_file.string() + " is empty"));
  }

  BOOST_TEST(contains(load_error(kHeader + "[http]\nadmin_token_env = \"NOT A NAME\"\n"),
                      "/etc/c.toml:4: [http] admin_token_env: must name an environment variable"));
  BOOST_TEST(
      contains(load_error(kHeader + "[http]\nadmin_token_file = \"/nonexistent/token\"\n"),
               "/etc/c.toml:4: [http] admin_token_file: file not found: /nonexistent/token"));
  BOOST_TEST(
      contains(load_error(kHeader + "[http]\nadmin_token_env = \"T\"\nadmin_token_file = \"" +
                          token_file.string() + "\"\n"),
               "[http] admin_token_file: admin_token_env and admin_token_file are mutually "
               "exclusive"));
  // The environment form of the keys works like every other key's.
  const auto from_environment =
      load(kHeader, {{"DANUBE_CONNECT__HTTP__ADMIN_TOKEN_ENV", "OPS_TOKEN"}});
  BOOST_TEST(from_environment.http.admin_token_env == "OPS_TOKEN");
}

BOOST_AUTO_TEST_CASE(programmatic_configs_are_validated_too) {
  ConnectorConfig config;
  config.processing.batch_size = 0;
  try {
    config.validate();
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(std::string(e.what()) ==
               "config error: [processing] batch_size: must be >= 1 (got 0)");
    BOOST_TEST(e.key() == "[processing] batch_size");
    BOOST_TEST(e.location().empty());
  }
  ConnectorConfig dlq;
  dlq.dead_letter.policy = DeadLetterPolicy::skip;
  dlq.connector_name = "dotted.name";  // the derived DLQ topic is unused under skip
  BOOST_CHECK_NO_THROW(dlq.validate());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(loading)

BOOST_AUTO_TEST_CASE(loader_reads_the_path_variable) {
  TempDir dir;
  const auto file = dir.write("connector.toml", kHeader + "[processing]\nbatch_size = 7\n");
  const auto config =
      ConfigLoader()
          .environment(Environment::from_map({{"CONNECTOR_CONFIG_PATH", file.string()}}))
          .load();
  BOOST_TEST(config.processing.batch_size == 7u);
  BOOST_TEST(config.origins.at("processing.batch_size") == file.string() + ":4");

  const auto custom = ConfigLoader()
                          .path_variable("MY_CONFIG")
                          .environment(Environment::from_map({{"MY_CONFIG", file.string()}}))
                          .load();
  BOOST_TEST(custom.connector_name == "orders-sink");

  try {
    ConfigLoader().environment(Environment()).load();
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "CONNECTOR_CONFIG_PATH: environment variable must be set"));
  }
}

BOOST_AUTO_TEST_CASE(missing_and_oversized_files_are_named) {
  try {
    ConfigLoader().environment(Environment()).load_file("/nonexistent/c.toml");
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "config error: /nonexistent/c.toml: cannot read"));
  }
  TempDir dir;
  const auto huge = dir.write("huge.toml", std::string(5 * 1024 * 1024, '#'));
  try {
    ConnectorConfig::from_file(huge);
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "too large"));
  }
}

BOOST_AUTO_TEST_CASE(from_file_ignores_the_environment_and_custom_tables) {
  TempDir dir;
  const auto file = dir.write("c.toml", kHeader);
  const auto config = ConnectorConfig::from_file(file);
  BOOST_TEST(config.connector_name == "orders-sink");
  const auto with_table = dir.write("t.toml", kHeader + "[mqtt]\nhost = \"h\"\n");
  BOOST_CHECK_THROW(ConnectorConfig::from_file(with_table), ConfigError);
}

BOOST_AUTO_TEST_CASE(sdk_keys_and_schemas_cannot_be_claimed) {
  BOOST_CHECK_THROW(ConfigLoader().allow_section("schemas"), ConfigError);
  BOOST_CHECK_THROW(ConfigLoader().allow_section("connector_name"), ConfigError);
  BOOST_CHECK_NO_THROW(ConfigLoader().allow_section("mqtt").allow_section("routes"));
}

BOOST_AUTO_TEST_CASE(a_shared_sdk_table_gives_the_sdk_its_keys_and_the_connector_the_table) {
  const std::string toml = kHeader +
                           "[auth]\n"             // line 3
                           "type = \"hmac\"\n"    // line 4
                           "token = \"t0ken\"\n"  // line 5
                           "header = \"X-Hub-Signature-256\"\n";
  // Not shared: the webhook's keys are unknown to the SDK.
  const auto error = load_error(toml);
  BOOST_TEST(error.find("/etc/c.toml:6: [auth] header: unknown key") != std::string::npos, error);
  // Shared: both read the table.
  const auto config = load(toml, {{"DANUBE_CONNECT__AUTH__ALGORITHM", "sha256"}}, {"auth"});
  BOOST_TEST(config.auth.token.value_or("") == "t0ken");
  const auto auth = config.section("auth");
  BOOST_TEST(auth.require_string("type") == "hmac");
  BOOST_TEST(auth.require_string("header") == "X-Hub-Signature-256");
  BOOST_TEST(auth.require_string("algorithm") == "sha256");
  BOOST_TEST(auth.contains("token"));
}

BOOST_AUTO_TEST_CASE(keys_the_rust_samples_carry_without_effect_are_accepted_and_reported) {
  const auto config = load(kHeader +
                           "[retry]\n"                     // line 3
                           "initial_interval_ms = 1000\n"  // line 4
                           "max_interval_ms = 60000\n"
                           "max_retries = 5\n");
  BOOST_TEST(config.retry.max_retries == 5u);
  BOOST_TEST_REQUIRE(config.ignored_keys.size() == 2u);
  BOOST_TEST(config.ignored_keys[0].find("/etc/c.toml:4: [retry] initial_interval_ms") == 0u,
             config.ignored_keys[0]);
  const auto error = load_error(kHeader + "[retry]\ninitial_backoff = 3\n");
  BOOST_TEST(error.find("[retry] initial_backoff") != std::string::npos, error);
}

BOOST_AUTO_TEST_CASE(missing_custom_section_is_an_error_naming_it) {
  const auto config = load(kHeader, {}, {"qdrant"});
  try {
    config.section("qdrant");
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "[qdrant]: missing required section"));
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(connector_sections)

const std::string kMqtt = kHeader +                         // lines 1-2
                          "[mqtt]\n"                        // 3
                          "broker_host = \"mqtt.local\"\n"  // 4
                          "broker_port = 1883\n"            // 5
                          "keep_alive = 2.5\n"              // 6
                          "clean = true\n"                  // 7
                          "filters = [\"a/#\", \"b/+\"]\n"  // 8
                          "mixed = [\"a\", 1]\n"            // 9
                          "[mqtt.tls]\n"                    // 10
                          "ca = \"/ca.pem\"\n"              // 11
                          "[[mqtt.routes]]\n"               // 12
                          "from = \"sensors/#\"\n"          // 13
                          "to = \"/default/sensors\"\n"     // 14
                          "qos = 1\n"                       // 15
                          "[[mqtt.routes]]\n"               // 16
                          "from = \"debug/#\"\n"            // 17
                          "qos = 7\n"                       // 18
                          "[[routes]]\n"                    // 19
                          "from = \"/hook\"\n";             // 20

BOOST_AUTO_TEST_CASE(typed_accessors) {
  const auto config = load(kMqtt, {}, {"mqtt", "routes"});
  const auto mqtt = config.section("mqtt");
  BOOST_TEST(mqtt.path() == "mqtt");
  BOOST_TEST(mqtt.require_string("broker_host") == "mqtt.local");
  BOOST_TEST(mqtt.get_string("missing", "fallback") == "fallback");
  BOOST_TEST(!mqtt.get_string("missing").has_value());
  BOOST_TEST(mqtt.require_integer("broker_port", 1, 65535) == 1883);
  BOOST_TEST(mqtt.get_integer("missing", 60) == 60);
  BOOST_TEST(mqtt.require_float("keep_alive") == 2.5);
  BOOST_TEST(mqtt.require_float("broker_port") == 1883.0);  // integers are numbers too
  BOOST_TEST(mqtt.require_bool("clean"));
  BOOST_TEST(mqtt.get_bool("missing", false) == false);
  BOOST_TEST((mqtt.require_string_array("filters") == std::vector<std::string>{"a/#", "b/+"}));
  BOOST_TEST(mqtt.require_section("tls").require_string("ca") == "/ca.pem");
  BOOST_TEST(!mqtt.get_section("nothing").has_value());
  BOOST_TEST(mqtt.contains("tls"));
  BOOST_TEST(!mqtt.contains("nothing"));

  const auto routes = mqtt.require_sections("routes");
  BOOST_REQUIRE(routes.size() == 2u);
  BOOST_TEST(routes[0].require_string("to") == "/default/sensors");
  BOOST_TEST(routes[1].path() == "mqtt.routes[1]");
  BOOST_TEST(mqtt.get_sections("nothing").empty());
  BOOST_TEST(config.sections("routes").size() == 1u);
}

BOOST_AUTO_TEST_CASE(accessor_errors_name_file_line_and_key) {
  const auto config = load(kMqtt, {}, {"mqtt", "routes"});
  const auto mqtt = config.section("mqtt");
  const auto routes = mqtt.require_sections("routes");
  const auto message = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const ConfigError& e) {
      return e.what();
    }
    BOOST_FAIL("expected a ConfigError");
    return {};
  };
  BOOST_TEST(message([&] { mqtt.require_integer("broker_host"); }) ==
             "config error: /etc/c.toml:4: [mqtt] broker_host: expected an integer (got string "
             "\"mqtt.local\")");
  BOOST_TEST(message([&] { mqtt.require_integer("broker_port", 1, 1000); }) ==
             "config error: /etc/c.toml:5: [mqtt] broker_port: must be <= 1000 (got 1883)");
  BOOST_TEST(message([&] { mqtt.require_bool("keep_alive"); }) ==
             "config error: /etc/c.toml:6: [mqtt] keep_alive: expected a boolean (got float 2.5)");
  BOOST_TEST(message([&] { mqtt.require_string_array("mixed"); }) ==
             "config error: /etc/c.toml:9: [mqtt] mixed: expected an array of strings (element "
             "1 is integer 1)");
  BOOST_TEST(message([&] { mqtt.require_string("client_id"); }) ==
             "config error: /etc/c.toml:3: [mqtt] client_id: missing required key (expected a "
             "string)");
  BOOST_TEST(message([&] {
               mqtt.require_section("broker_host");
             }).find("/etc/c.toml:4: [mqtt] broker_host: expected a table") != std::string::npos);
  BOOST_TEST(message([&] { routes[1].require_string("to"); }) ==
             "config error: /etc/c.toml:16: [[mqtt.routes]][1] to: missing required key "
             "(expected a string)");
  BOOST_TEST(message([&] { routes[1].require_integer("qos", 0, 2); }) ==
             "config error: /etc/c.toml:18: [[mqtt.routes]][1] qos: must be <= 2 (got 7)");
  BOOST_TEST(message([&] { routes[0].fail("from", "overlaps route 1"); }) ==
             "config error: /etc/c.toml:13: [[mqtt.routes]][0] from: overlaps route 1");
  BOOST_TEST(message([&] {
               mqtt.reject_unknown_keys({"broker_host", "broker_port", "keep_alive", "clean",
                                         "filters", "tls", "routes"});
             }) ==
             "config error: /etc/c.toml:9: [mqtt] mixed: unknown key (known keys: "
             "broker_host, broker_port, keep_alive, clean, filters, tls, routes)");
  BOOST_CHECK_NO_THROW(routes[0].reject_unknown_keys({"from", "to", "qos"}));
}

BOOST_AUTO_TEST_CASE(sections_parse_for_tests_of_connectors) {
  ConnectorConfig config;
  config.custom_sections = ConfigSection::parse("[mqtt]\nhost = \"h\"\nport = 1\n", "test.toml");
  BOOST_TEST(config.section("mqtt").require_string("host") == "h");
  BOOST_TEST(config.section("mqtt").location("port") == "test.toml:3");
  try {
    ConfigSection::parse("[mqtt\n", "broken.toml");
    BOOST_FAIL("expected an error");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(), "config error: broken.toml:1: "));
  }
  const ConfigSection empty;
  BOOST_TEST(empty.empty());
  BOOST_TEST(!empty.get_string("x").has_value());
  BOOST_TEST(empty.keys().empty());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_CASE(a_value_toml_cannot_read_is_reported_with_its_key) {
  // toml++ reports where an integer overflows, not which key it belongs to.
  BOOST_TEST(contains(load_error(kHeader + "[processing]\nbatch_size = 99999999999999999999\n"),
                      "/etc/c.toml:4: [processing] batch_size: "));
  BOOST_TEST(contains(load_error(kHeader + "[[schemas]]\ntopic = \"/default/x\"\n"
                                           "version = 1979-05-27T07:32:00Z7\n"),
                      ":5: [[schemas]][0] version: "));
  BOOST_TEST(contains(load_error("connector_name = 1_000_000_000_000_000_000_000\n"),
                      "/etc/c.toml:1: connector_name: "));
}

BOOST_AUTO_TEST_CASE(topic_accessors_name_file_line_and_key_of_a_bad_topic) {
  const auto config =
      load(kHeader + "[mqtt]\ntopic = \"orders\"\ngood = \"/default/orders\"\n", {}, {"mqtt"});
  const auto mqtt = config.section("mqtt");
  BOOST_TEST(mqtt.get_topic("good", "/default/x") == "/default/orders");
  BOOST_TEST(mqtt.get_topic("absent", "/default/x") == "/default/x");
  try {
    mqtt.get_topic("topic", "/default/x");
    BOOST_FAIL("expected a ConfigError");
  } catch (const ConfigError& e) {
    BOOST_TEST(contains(e.what(),
                        "config error: /etc/c.toml:4: [mqtt] topic: invalid topic name "
                        "\"orders\""));
  }
}
