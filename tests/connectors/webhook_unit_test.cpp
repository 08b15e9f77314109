// The webhook connector's pieces without a process or a broker: JSON Schema validation, the
// authentication modes, token buckets, the acknowledgement tracker, the Rust config layout, the
// request handler in front of a recording channel, and the connector's listener and shutdown.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <boost/test/unit_test.hpp>
#include <fstream>
#include <future>
#include <thread>

#include "ack_tracker.hpp"
#include "auth.hpp"
#include "danube/connect/config_error.hpp"
#include "danube/connect/config_loader.hpp"
#include "danube/connect/connector_context.hpp"
#include "danube/connect/testing.hpp"
#include "json_schema.hpp"
#include "publisher.hpp"
#include "rate_limiter.hpp"
#include "request_handler.hpp"
#include "webhook_config.hpp"
#include "webhook_connector.hpp"
#include "webhook_record.hpp"
#include "webhook_support.hpp"

namespace dc = danube::connect;
using namespace danube::webhook;
using namespace danube::webhook::test;

namespace {

const std::filesystem::path kRustConfigs = RUST_CONFIGS_DIR;

std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The file as danube-source-webhook loads it: its own tables declared, [auth] shared.
dc::ConnectorConfig load_text(const std::string& text, const std::string& source_name,
                              dc::Environment environment = {}) {
  dc::ConfigLoader loader;
  for (const char* section : kOwnSections)
    loader.allow_section(section);
  loader.environment(environment);
  return loader.load_string(text, source_name);
}

dc::ConnectorConfig load(const std::string& tables, dc::Environment environment = {}) {
  return load_text(
      "danube_service_url = \"http://127.0.0.1:6650\"\nconnector_name = \"hooks\"\n" + tables,
      "test.toml", environment);
}

WebhookSettings settings_of(const std::string& tables, dc::Environment environment = {}) {
  return parse_webhook_settings(load(tables, environment), environment);
}

// What a config error says, or "" when there was none.
template <class Action>
std::string config_error_of(Action action) {
  try {
    action();
  } catch (const dc::ConfigError& error) {
    return error.what();
  }
  return "";
}

AuthSettings auth_of(const std::string& auth_table) {
  return settings_of(auth_table + "[[routes]]\nfrom = \"/hook\"\nto = \"/default/hooks\"\n")
      .endpoints.at(0)
      .auth;
}

const auto kNow = std::chrono::system_clock::now();

}  // namespace

// --- JSON Schema ---------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(json_schema)

BOOST_AUTO_TEST_CASE(the_rust_payment_schema_accepts_a_stripe_event_and_names_what_is_wrong) {
  const JsonSchema schema(nlohmann::json::parse(read_text(kRustConfigs / "schemas/payment.json")));
  const auto valid = nlohmann::json::parse(
      R"({"id":"evt_1","type":"charge.succeeded","object":"event","created":1700000000,
          "data":{"object":{"amount":5}},"livemode":false})");
  BOOST_TEST(!schema.validate(valid).has_value());

  auto missing = valid;
  missing.erase("created");
  BOOST_TEST(schema.validate(missing).value() == "(root): missing required property 'created'");
  auto wrong_type = valid;
  wrong_type["created"] = "yesterday";
  BOOST_TEST(schema.validate(wrong_type).value() == "/created: expected integer, got string");
  auto bad_enum = valid;
  bad_enum["type"] = "refund.created";
  BOOST_TEST(schema.validate(bad_enum).value().starts_with("/type: not one of the allowed values"));
  auto bad_pattern = valid;
  bad_pattern["id"] = "ch_1";
  BOOST_TEST(schema.validate(bad_pattern).value() == "/id: does not match the pattern \"^evt_\"");
  auto bad_const = valid;
  bad_const["object"] = "charge";
  BOOST_TEST(schema.validate(bad_const).value() == "/object: must be \"event\"");
  auto nested = valid;
  nested["data"] = nlohmann::json::object();
  BOOST_TEST(schema.validate(nested).value() == "/data: missing required property 'object'");
}

BOOST_AUTO_TEST_CASE(numbers_strings_arrays_combinators_and_references) {
  const JsonSchema schema(nlohmann::json::parse(R"({
    "type": "object", "additionalProperties": false,
    "definitions": {"positive": {"type": "number", "exclusiveMinimum": 0}},
    "properties": {
      "amount": {"$ref": "#/definitions/positive"},
      "code": {"type": "string", "minLength": 3, "maxLength": 3},
      "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
      "count": {"type": "integer", "minimum": 1, "maximum": 10, "multipleOf": 2},
      "kind": {"oneOf": [{"const": "a"}, {"const": "b"}]},
      "other": {"not": {"type": "null"}}
    }})"));
  BOOST_TEST(!schema
                  .validate(nlohmann::json::parse(
                      R"({"amount":1.5,"code":"EUR","tags":["x"],"count":4,"kind":"a"})"))
                  .has_value());
  BOOST_TEST(schema.validate({{"amount", 0}}).value() == "/amount: not greater than 0");
  BOOST_TEST(schema.validate({{"code", "EURO"}}).value() == "/code: longer than 3 characters");
  BOOST_TEST(schema.validate({{"tags", {"a", 1}}}).value() ==
             "/tags/1: expected string, got integer");
  BOOST_TEST(schema.validate({{"tags", {"a", "b", "c"}}}).value() == "/tags: more than 2 items");
  BOOST_TEST(schema.validate({{"count", 3}}).value() == "/count: not a multiple of 2");
  BOOST_TEST(schema.validate({{"count", 12}}).value() == "/count: greater than the maximum 10");
  BOOST_TEST(schema.validate({{"kind", "c"}}).value() == "/kind: matches 0 of oneOf (must be 1)");
  BOOST_TEST(schema.validate({{"other", nullptr}}).value() ==
             "/other: matches a schema it must not match");
  BOOST_TEST(schema.validate({{"extra", 1}}).value() == "(root): property 'extra' is not allowed");
  BOOST_TEST(schema.validate({{"count", 4.0}}).has_value() == false);  // 4.0 is an integer
}

BOOST_AUTO_TEST_CASE(a_pattern_that_does_not_compile_is_refused_up_front) {
  BOOST_CHECK_THROW(JsonSchema(nlohmann::json::parse(R"({"pattern": "(unclosed"})")),
                    std::invalid_argument);
  BOOST_CHECK_THROW(JsonSchema(nlohmann::json(42)), std::invalid_argument);
}

BOOST_AUTO_TEST_SUITE_END()

// --- authentication ------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(authentication)

BOOST_AUTO_TEST_CASE(api_key_in_the_configured_header) {
  setenv("WEBHOOK_UNIT_API_KEY", "key-123", 1);
  const Authenticator auth(
      auth_of("[auth]\ntype = \"apikey\"\nsecret_env = \"WEBHOOK_UNIT_API_KEY\"\nheader = "
              "\"X-API-Key\"\n"));
  BOOST_TEST(!auth.verify(MapHeaders{{"x-api-key", "key-123"}}, "", kNow).has_value());
  BOOST_TEST(auth.verify(MapHeaders{{"X-Api-Key", "key-124"}}, "", kNow).value() ==
             "invalid API key");
  BOOST_TEST(auth.verify(MapHeaders{}, "", kNow).value() == "missing x-api-key header");
  BOOST_TEST(auth.settings().describe() ==
             "apikey header=x-api-key secret=env WEBHOOK_UNIT_API_KEY");
}

BOOST_AUTO_TEST_CASE(github_style_hmac_over_the_raw_body) {
  setenv("WEBHOOK_UNIT_GITHUB", "It's a Secret to Everybody", 1);
  const Authenticator auth(
      auth_of("[auth]\ntype = \"hmac\"\nsecret_env = \"WEBHOOK_UNIT_GITHUB\"\n"
              "header = \"X-Hub-Signature-256\"\nalgorithm = \"sha256\"\n"));
  BOOST_TEST((auth.settings().hmac_style == HmacStyle::github));
  // GitHub's documented example: "Hello, World!" with this secret.
  const std::string body = "Hello, World!";
  BOOST_TEST(github_signature("It's a Secret to Everybody", body) ==
             "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17");
  const std::string good = github_signature("It's a Secret to Everybody", body);
  BOOST_TEST(!auth.verify(MapHeaders{{"X-Hub-Signature-256", good}}, body, kNow).has_value());
  // The bare hex is accepted too (the Rust connector's format).
  BOOST_TEST(
      !auth.verify(MapHeaders{{"X-Hub-Signature-256", good.substr(7)}}, body, kNow).has_value());
  BOOST_TEST(auth.verify(MapHeaders{{"X-Hub-Signature-256", good}}, body + " ", kNow).value() ==
             "invalid signature");
  BOOST_TEST(auth.verify(MapHeaders{{"X-Hub-Signature-256", "sha1=" + good.substr(7)}}, body, kNow)
                 .value() == "signature algorithm is not sha256");
  BOOST_TEST(auth.verify(MapHeaders{{"X-Hub-Signature-256", "sha256=zz"}}, body, kNow).value() ==
             "malformed signature (expected hex)");
  BOOST_TEST(auth.verify(MapHeaders{}, body, kNow).value() == "missing x-hub-signature-256 header");
}

BOOST_AUTO_TEST_CASE(sha512_signatures) {
  setenv("WEBHOOK_UNIT_SHA512", "s3cret", 1);
  const Authenticator auth(
      auth_of("[auth]\ntype = \"hmac\"\nsecret_env = \"WEBHOOK_UNIT_SHA512\"\n"
              "header = \"X-Signature\"\nalgorithm = \"sha512\"\n"));
  const std::string body = R"({"a":1})";
  const std::string signature = "sha512=" + to_hex(hmac(HmacAlgorithm::sha512, "s3cret", body));
  BOOST_TEST(!auth.verify(MapHeaders{{"X-Signature", signature}}, body, kNow).has_value());
}

BOOST_AUTO_TEST_CASE(stripe_style_signature_with_timestamp_tolerance) {
  setenv("WEBHOOK_UNIT_STRIPE", "whsec_test", 1);
  // The Rust connector's Stripe config: the style follows from the header.
  const Authenticator auth(
      auth_of("[auth]\ntype = \"hmac\"\nsecret_env = \"WEBHOOK_UNIT_STRIPE\"\n"
              "header = \"Stripe-Signature\"\nalgorithm = \"sha256\"\n"));
  BOOST_TEST((auth.settings().hmac_style == HmacStyle::stripe));
  const std::string body = R"({"id":"evt_1"})";
  const auto now = unix_now();
  const auto at = [](std::int64_t seconds) {
    return std::chrono::system_clock::time_point(std::chrono::seconds(seconds));
  };
  const MapHeaders good{{"Stripe-Signature", stripe_signature("whsec_test", now, body)}};
  BOOST_TEST(!auth.verify(good, body, at(now)).has_value());
  BOOST_TEST(!auth.verify(good, body, at(now + 300)).has_value());
  BOOST_TEST(auth.verify(good, body, at(now + 301)).value() ==
             "signature timestamp outside the tolerance of 300 s");
  BOOST_TEST(auth.verify(good, body, at(now - 301)).value() ==
             "signature timestamp outside the tolerance of 300 s");
  BOOST_TEST(auth.verify(good, body + "x", at(now)).value() == "invalid signature");
  // Signed with another secret, then a roll-over header carrying both signatures.
  const std::string other = stripe_signature("whsec_old", now, body);
  BOOST_TEST(auth.verify(MapHeaders{{"Stripe-Signature", other}}, body, at(now)).value() ==
             "invalid signature");
  const std::string both = other + ",v1=" +
                           stripe_signature("whsec_test", now, body)
                               .substr(stripe_signature("whsec_test", now, body).find("v1=") + 3);
  BOOST_TEST(!auth.verify(MapHeaders{{"Stripe-Signature", both}}, body, at(now)).has_value());
  BOOST_TEST(auth.verify(MapHeaders{{"Stripe-Signature", "v1=abcd"}}, body, at(now)).value() ==
             "signature has no timestamp (t=)");
  BOOST_TEST(auth.verify(MapHeaders{{"Stripe-Signature", "t=12x,v1=ab"}}, body, at(now)).value() ==
             "malformed signature timestamp");
}

BOOST_AUTO_TEST_CASE(jwt_hs256_checks_signature_expiry_and_not_before) {
  setenv("WEBHOOK_UNIT_JWT", "jwt-secret", 1);
  const Authenticator auth(auth_of(
      "[auth]\ntype = \"jwt\"\nsecret_env = \"WEBHOOK_UNIT_JWT\"\njwt_leeway_seconds = 0\n"));
  const auto now = unix_now();
  auto bearer = [](const std::string& token) {
    return MapHeaders{{"Authorization", "Bearer " + token}};
  };
  BOOST_TEST(
      !auth.verify(bearer(hs256_token("jwt-secret", {{"sub", "a"}, {"exp", now + 60}})), "", kNow)
           .has_value());
  BOOST_TEST(auth.verify(bearer(hs256_token("wrong", {{"sub", "a"}, {"exp", now + 60}})), "", kNow)
                 .value() == "invalid token signature");
  BOOST_TEST(auth.verify(bearer(hs256_token("jwt-secret", {{"exp", now - 5}})), "", kNow).value() ==
             "token expired");
  BOOST_TEST(auth.verify(bearer(hs256_token("jwt-secret", {{"exp", now + 60}, {"nbf", now + 30}})),
                         "", kNow)
                 .value() == "token not valid yet (nbf)");
  BOOST_TEST(auth.verify(bearer(hs256_token("jwt-secret", {{"sub", "a"}})), "", kNow).value() ==
             "token has no 'exp' claim");
  // "alg": "none" with no signature, and any other algorithm, are refused before anything else.
  const std::string unsigned_token = base64url(R"({"alg":"none"})") + "." +
                                     base64url(nlohmann::json{{"exp", now + 60}}.dump()) + ".";
  BOOST_TEST(auth.verify(bearer(unsigned_token), "", kNow).value() ==
             "token algorithm 'none' is not the expected HS256");
  BOOST_TEST(auth.verify(bearer("abc.def"), "", kNow).value() ==
             "malformed token (expected header.payload.signature)");
  BOOST_TEST(auth.verify(MapHeaders{{"Authorization", "Basic abc"}}, "", kNow).value() ==
             "Authorization header is not a Bearer token");
  BOOST_TEST(auth.verify(MapHeaders{}, "", kNow).value() == "missing Authorization header");
}

BOOST_AUTO_TEST_CASE(jwt_rs256_with_a_public_key_file) {
  dc::ConnectorConfig unused;
  (void)unused;
  // A fresh RSA key: the private half signs here, the public half goes to public_key_path.
  EVP_PKEY* raw_key = EVP_RSA_gen(2048);
  BOOST_TEST_REQUIRE(raw_key != nullptr);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(raw_key, &EVP_PKEY_free);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key.get());
  char* data = nullptr;
  const long length = BIO_get_mem_data(bio, &data);
  const std::string public_pem(data, static_cast<std::size_t>(length));
  BIO_free(bio);
  danube::chaos::ScratchDirectory dir("webhook-rs256");
  const auto pem_file = dir.path() / "public.pem";
  danube::chaos::write_text_file(pem_file, public_pem);

  const Authenticator auth(
      auth_of("[auth]\ntype = \"jwt\"\npublic_key_path = \"" + pem_file.string() + "\"\n"));
  const auto now = unix_now();
  const std::string signing_input = base64url(R"({"alg":"RS256","typ":"JWT"})") + "." +
                                    base64url(nlohmann::json{{"exp", now + 60}}.dump());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                  &EVP_MD_CTX_free);
  EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key.get());
  std::size_t signature_length = 0;
  EVP_DigestSign(context.get(), nullptr, &signature_length,
                 reinterpret_cast<const unsigned char*>(signing_input.data()),
                 signing_input.size());
  std::string signature(signature_length, '\0');
  EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()),
                 &signature_length, reinterpret_cast<const unsigned char*>(signing_input.data()),
                 signing_input.size());
  signature.resize(signature_length);
  const std::string token = signing_input + "." + base64url(signature);
  BOOST_TEST(!auth.verify(MapHeaders{{"Authorization", "Bearer " + token}}, "", kNow).has_value());
  std::string tampered = token;
  tampered[tampered.size() - 5] = tampered[tampered.size() - 5] == 'A' ? 'B' : 'A';
  BOOST_TEST(auth.verify(MapHeaders{{"Authorization", "Bearer " + tampered}}, "", kNow).value() ==
             "invalid token signature");
  // The classic confusion: an HS256 token "signed" with the public key text.
  BOOST_TEST(auth.verify(MapHeaders{{"Authorization",
                                     "Bearer " + hs256_token(public_pem, {{"exp", now + 60}})}},
                         "", kNow)
                 .value() == "token algorithm 'HS256' is not the expected RS256");
}

BOOST_AUTO_TEST_CASE(secrets_come_from_the_environment_or_a_file_and_must_exist) {
  danube::chaos::ScratchDirectory dir("webhook-secret-file");
  danube::chaos::write_text_file(dir.path() / "key", "from-file\n");
  const auto auth = auth_of("[auth]\ntype = \"apikey\"\nsecret_file = \"" +
                            (dir.path() / "key").string() + "\"\n");
  BOOST_TEST(auth.secret == "from-file");
  BOOST_TEST(auth.describe().find("from-file") == std::string::npos);  // never the secret
  unsetenv("WEBHOOK_UNIT_UNSET");
  BOOST_TEST(config_error_of([] {
               auth_of("[auth]\ntype = \"apikey\"\nsecret_env = \"WEBHOOK_UNIT_UNSET\"\n");
             }) ==
             "config error: test.toml:5: [auth] secret_env: environment variable "
             "WEBHOOK_UNIT_UNSET is not set");
  BOOST_TEST(config_error_of([] {
               auth_of("[auth]\ntype = \"hmac\"\n");
             }).find("[auth] secret_env: the secret is required") != std::string::npos);
  BOOST_TEST(config_error_of([] { auth_of("[auth]\ntype = \"oauth\"\n"); }) ==
             "config error: test.toml:4: [auth] type: must be none, apikey, hmac or jwt (got "
             "\"oauth\")");
}

BOOST_AUTO_TEST_SUITE_END()

// --- rate limiting -------------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(token_buckets_per_endpoint_and_per_client) {
  const auto start = SteadyClock::now();
  RateLimitSettings settings;
  settings.requests_per_second = 2;
  settings.burst_size = 3;
  settings.per_ip_enabled = true;
  settings.per_ip_requests_per_second = 1;
  settings.per_ip_burst_size = 2;
  RateLimiter limiter(settings, start);
  BOOST_TEST(!limiter.admit("10.0.0.1", start).has_value());
  BOOST_TEST(!limiter.admit("10.0.0.1", start).has_value());
  const auto client_refusal = limiter.admit("10.0.0.1", start);
  BOOST_TEST_REQUIRE(client_refusal.has_value());
  BOOST_TEST(std::string(client_refusal->which) == "client");
  BOOST_TEST(std::chrono::duration<double>(client_refusal->retry_after).count() ==
             1.0);                                            // one token per second
  BOOST_TEST(!limiter.admit("10.0.0.2", start).has_value());  // the endpoint's third token
  const auto endpoint_refusal = limiter.admit("10.0.0.3", start);
  BOOST_TEST_REQUIRE(endpoint_refusal.has_value());
  BOOST_TEST(std::string(endpoint_refusal->which) == "endpoint");
  BOOST_TEST(std::chrono::duration<double>(endpoint_refusal->retry_after).count() == 0.5);
  // Half a second later the endpoint has a token again.
  BOOST_TEST(!limiter.admit("10.0.0.3", start + std::chrono::milliseconds(500)).has_value());
}

// --- acknowledgements ----------------------------------------------------------------------------

BOOST_AUTO_TEST_CASE(ack_tracker_orders_offsets_and_wakes_waiters) {
  AckTracker tracker;
  tracker.start(41);  // resume offsets said 41: new ones start above
  const auto deadline = AckTracker::Clock::now() + 5s;
  const auto first =
      tracker.send_in_order(deadline, [](std::uint64_t) { return dc::SendStatus::sent; });
  const auto second =
      tracker.send_in_order(deadline, [](std::uint64_t) { return dc::SendStatus::sent; });
  BOOST_TEST(first.offset == 42u);
  BOOST_TEST(second.offset == 43u);
  auto waiting = std::async(std::launch::async, [&] { return tracker.wait(43, deadline); });
  tracker.committed(42);
  BOOST_TEST((waiting.wait_for(50ms) == std::future_status::timeout));
  tracker.committed(43);
  BOOST_TEST((waiting.get() == AckTracker::Outcome::acknowledged));
  BOOST_TEST((tracker.wait(44, AckTracker::Clock::now() + 20ms) == AckTracker::Outcome::timed_out));
  auto stopped = std::async(std::launch::async, [&] { return tracker.wait(44, deadline); });
  tracker.stop();
  BOOST_TEST((stopped.get() == AckTracker::Outcome::stopped));
  tracker.start(0);  // a restart: offsets never go back
  BOOST_TEST(
      tracker.send_in_order(deadline, [](std::uint64_t) { return dc::SendStatus::sent; }).offset ==
      44u);
}

// --- configuration -------------------------------------------------------------------------------

BOOST_AUTO_TEST_SUITE(configuration)

BOOST_AUTO_TEST_CASE(the_rust_connectors_configs_load_unchanged) {
  setenv("STRIPE_WEBHOOK_SECRET", "whsec_x", 1);
  setenv("WEBHOOK_API_KEY", "test-api-key-12345", 1);
  const auto cwd = std::filesystem::current_path();
  std::filesystem::current_path(kRustConfigs);  // their schema_file paths are relative
  const std::vector<std::string> files = {"connector.toml", "connector-no-schemas.toml",
                                          "endpoints-connector.toml"};
  for (const auto& name : files) {
    BOOST_TEST_CONTEXT(name) {
      const auto config = load_text(read_text(kRustConfigs / name), name);
      const auto settings = parse_webhook_settings(config, {});
      BOOST_TEST(settings.server.port == 8080);
      BOOST_TEST(settings.server.host == "0.0.0.0");
      BOOST_TEST(config.processing.batch_size == 100u);
      BOOST_TEST(config.retry.max_retries == 5u);
      BOOST_TEST(config.ignored_keys.size() == 2u);  // [retry] initial/max_interval_ms
      BOOST_TEST(config.auth.token.has_value() == false);
    }
  }
  const auto full = load_text(read_text(kRustConfigs / "connector.toml"), "connector.toml");
  BOOST_TEST(full.ignored_keys.at(0).starts_with("connector.toml:13: [retry] initial_interval_ms"));
  const auto settings = parse_webhook_settings(full, {});
  BOOST_TEST_REQUIRE(settings.endpoints.size() == 3u);
  BOOST_TEST(settings.endpoints[0].path == "/webhooks/payments");
  BOOST_TEST(settings.endpoints[0].topic == "/stripe/payments");
  BOOST_TEST(settings.endpoints[0].partitions == 2u);
  BOOST_TEST(settings.endpoints[0].reliable_dispatch);
  BOOST_TEST(settings.endpoints[0].schema != nullptr);  // json_schema [[schemas]] entry
  BOOST_TEST((settings.endpoints[0].auth.mode == AuthMode::hmac));
  BOOST_TEST((settings.endpoints[0].auth.hmac_style == HmacStyle::stripe));
  BOOST_TEST(settings.endpoints[0].rate_limit->requests_per_second == 1000.0);
  BOOST_TEST(settings.endpoints[2].schema == nullptr);  // a string schema validates nothing
  BOOST_TEST(full.schemas.size() == 3u);
  std::filesystem::current_path(cwd);

  // The example's schema lives at /etc/schemas in its container; here beside the configs.
  std::string example = read_text(kRustConfigs / "example-connector.toml");
  example.replace(example.find("/etc/schemas/payment.json"), 25,
                  (kRustConfigs / "schemas/payment.json").string());
  const auto example_settings =
      parse_webhook_settings(load_text(example, "example-connector.toml"), {});
  BOOST_TEST(example_settings.endpoints.size() == 4u);
  BOOST_TEST((example_settings.endpoints[0].auth.mode == AuthMode::api_key));
  BOOST_TEST(example_settings.endpoints[0].rate_limit->per_ip_enabled);
  BOOST_TEST(example_settings.endpoints[0].rate_limit->per_ip_requests_per_second == 10.0);
}

BOOST_AUTO_TEST_CASE(the_shipped_reference_and_example_configs_load) {
  const auto connector_dir = kRustConfigs.parent_path().parent_path();
  const auto reference =
      parse_webhook_settings(load_text(read_text(connector_dir / "connector.toml"), "ref"), {});
  BOOST_TEST(reference.endpoints.size() == 1u);
  BOOST_TEST(reference.server.threads == 64);
  BOOST_TEST((reference.endpoints[0].routing_key.kind == RoutingKeyRule::Kind::header));
  setenv("WEBHOOK_API_KEY", "example", 1);
  setenv("GITHUB_WEBHOOK_SECRET", "example", 1);
  const auto example = parse_webhook_settings(
      load_text(read_text(connector_dir / "example/connector.toml"), "example"), {});
  BOOST_TEST(example.endpoints.size() == 2u);
  BOOST_TEST((example.endpoints[1].auth.mode == AuthMode::hmac));
}

BOOST_AUTO_TEST_CASE(auth_is_shared_with_the_broker_credentials) {
  setenv("WEBHOOK_UNIT_SHARED", "k", 1);
  const auto config = load(
      "[auth]\ntype = \"apikey\"\nsecret_env = \"WEBHOOK_UNIT_SHARED\"\ntoken = \"broker-token\"\n"
      "[[routes]]\nfrom = \"/h\"\nto = \"/default/h\"\n");
  BOOST_TEST(config.auth.token.value() == "broker-token");
  BOOST_TEST((parse_webhook_settings(config, {}).endpoints.at(0).auth.mode == AuthMode::api_key));
  BOOST_TEST(config_error_of([] {
               settings_of(
                   "[auth]\ntype = \"none\"\ntokn = \"x\"\n[[routes]]\nfrom = \"/h\"\n"
                   "to = \"/default/h\"\n");
             }).find("test.toml:5: [auth] tokn: unknown key") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(errors_name_the_key_and_line) {
  const std::string route = "[[routes]]\nfrom = \"/hook\"\nto = \"/default/hooks\"\n";
  BOOST_TEST(config_error_of([&] {
               settings_of("[server]\nprot = 1\n" + route);
             }).find("test.toml:4: [server] prot: unknown key") != std::string::npos);
  BOOST_TEST(config_error_of([] {
               settings_of("[[routes]]\nfrom = \"hook\"\nto = \"/default/h\"\n");
             }).find("[[routes]][0] from: must start with '/'") != std::string::npos);
  BOOST_TEST(config_error_of([] {
               settings_of("[server]\nport = 1\n");
             }).find("[[routes]]: at least one route is required") != std::string::npos);
  BOOST_TEST(config_error_of([&] {
               settings_of(route + route);
             }).find("duplicate route path /hook") != std::string::npos);
  BOOST_TEST(config_error_of([&] {
               settings_of(route, dc::Environment::from_map({{"SERVER_PORT", "80a"}}));
             }) ==
             "config error: SERVER_PORT: [server] port: expected a port number 0..65535 "
             "(got \"80a\")");
  const auto overridden = settings_of(
      route, dc::Environment::from_map({{"SERVER_PORT", "9999"}, {"SERVER_HOST", "127.0.0.2"}}));
  BOOST_TEST(overridden.server.port == 9999);
  BOOST_TEST(overridden.server.host == "127.0.0.2");
  BOOST_TEST(config_error_of([&] {
               settings_of(
                   "[[routes]]\nfrom = \"/h\"\nto = \"/default/h\"\nvalidate_schema = true\n");
             }).find("no [[schemas]] json_schema entry") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

// --- the request handler -------------------------------------------------------------------------

namespace {

// A channel that never has room: send_for always times out.
class FullChannel final : public dc::SourceChannel {
 public:
  dc::SendStatus send(dc::SourceEnvelope) override { return dc::SendStatus::timed_out; }
  dc::SendStatus send_for(dc::SourceEnvelope, std::chrono::milliseconds) override {
    return dc::SendStatus::timed_out;
  }
  bool is_closed() const override { return false; }
};

struct HandlerFixture {
  explicit HandlerFixture(const std::string& tables,
                          std::shared_ptr<dc::SourceChannel> channel_in = nullptr) {
    setenv("WEBHOOK_UNIT_KEY", "k", 1);
    config = load(tables);
    settings = parse_webhook_settings(config, {});
    context.emplace(dc::ConnectorContext::standalone(config));
    tracker->start(0);
    publisher = std::make_unique<Publisher>(tracker, settings.server.send_timeout,
                                            settings.server.ack_timeout);
    channel = channel_in ? channel_in : recording;
    publisher->attach(dc::SourceSender(channel));
    handler = std::make_unique<RequestHandler>(settings, *context, *publisher);
  }

  WebhookResponse post(const std::string& path, const std::string& body,
                       const MapHeaders& headers = {}, const std::string& method = "POST") {
    StringBody source(body);
    return handler->handle(WebhookRequest{method, path, headers, "192.0.2.7"}, source);
  }
  double requests(const std::string& endpoint, int status) {
    return context->metrics()
        .counter("webhook_requests_total", "",
                 {{"endpoint", endpoint}, {"status", std::to_string(status)}})
        .value();
  }

  dc::ConnectorConfig config;
  WebhookSettings settings;
  std::optional<dc::ConnectorContext> context;
  std::shared_ptr<AckTracker> tracker = std::make_shared<AckTracker>();
  std::shared_ptr<dc::testing::RecordingSourceChannel> recording =
      std::make_shared<dc::testing::RecordingSourceChannel>();
  std::shared_ptr<dc::SourceChannel> channel;
  std::unique_ptr<Publisher> publisher;
  std::unique_ptr<RequestHandler> handler;
};

const std::string kHandlerTables = R"(
[server]
max_body_size = 64
ack_timeout_ms = 300
send_timeout_ms = 50
retry_after_seconds = 7
[[routes]]
from = "/fast"
to = "/default/fast"
require_json = true
attribute_headers = ["X-GitHub-Event"]
routing_key = { json_pointer = "/customer/id" }
[[routes]]
from = "/reliable"
to = "/default/reliable"
reliable_dispatch = true
routing_key = { header = "X-Tenant" }
[[routes]]
from = "/limited"
to = "/default/fast"
[routes.rate_limit]
requests_per_second = 1
burst_size = 1
[[routes]]
from = "/keyed"
to = "/default/fast"
[routes.auth]
type = "apikey"
secret_env = "WEBHOOK_UNIT_KEY"
)";

}  // namespace

BOOST_AUTO_TEST_CASE(handler_answers_every_status_with_its_reason) {
  HandlerFixture fixture(kHandlerTables);
  auto ok = fixture.post("/fast", R"({"customer":{"id":42}})",
                         MapHeaders{{"User-Agent", "GitHub-Hookshot/1"},
                                    {"Content-Type", "application/json"},
                                    {"X-GitHub-Event", "push"},
                                    {"X-Forwarded-For", "203.0.113.9, 10.0.0.1"}});
  BOOST_TEST(ok.status == 200);
  BOOST_TEST(nlohmann::json::parse(ok.body)["acknowledged"] == false);
  const auto received = fixture.recording->received();
  BOOST_TEST_REQUIRE(received.size() == 1u);
  const auto& record = received[0].record;
  BOOST_TEST(record.topic() == "/default/fast");
  BOOST_TEST(std::string(record.payload().view()) == R"({"customer":{"id":42}})");
  BOOST_TEST(record.attributes().at("webhook.source") == "hooks");
  BOOST_TEST(record.attributes().at("webhook.endpoint") == "/fast");
  BOOST_TEST(record.attributes().at("webhook.ip") == "203.0.113.9");
  BOOST_TEST(record.attributes().at("webhook.user_agent") == "GitHub-Hookshot/1");
  BOOST_TEST(record.attributes().at("webhook.content_type") == "application/json");
  BOOST_TEST(record.attributes().at("webhook.header.x-github-event") == "push");
  BOOST_TEST(record.attributes().at("webhook.timestamp").ends_with("+00:00"));
  BOOST_TEST(record.key().value() == "42");
  BOOST_TEST(!received[0].offset.has_value());  // not reliable: nothing to wait for

  BOOST_TEST(fixture.post("/nowhere", "{}").status == 404);
  const auto wrong_method = fixture.post("/fast", "", {}, "GET");
  BOOST_TEST(wrong_method.status == 405);
  BOOST_TEST(wrong_method.headers.at(0).second == "POST");
  const auto too_large = fixture.post("/fast", std::string(65, 'x'));
  BOOST_TEST(too_large.status == 413);
  BOOST_TEST(nlohmann::json::parse(too_large.body)["error"] ==
             "Payload exceeds the maximum of 64 bytes");
  const auto not_json = fixture.post("/fast", "hello");
  BOOST_TEST(not_json.status == 400);
  BOOST_TEST(nlohmann::json::parse(not_json.body)["error"] == "Body is not valid JSON");
  BOOST_TEST(fixture.post("/limited", "a").status == 200);
  const auto limited = fixture.post("/limited", "b");
  BOOST_TEST(limited.status == 429);
  BOOST_TEST(limited.headers.at(0).first == "Retry-After");
  BOOST_TEST(limited.headers.at(0).second == "1");
  BOOST_TEST(fixture.post("/keyed", "x").status == 401);
  BOOST_TEST(fixture.post("/keyed", "x", MapHeaders{{"X-API-Key", "k"}}).status == 200);
  // Non-JSON is published the Rust way: a base64 object.
  const auto wrapped = fixture.recording->received().back().record;
  BOOST_TEST(std::string(wrapped.payload().view()) ==
             R"({"data":"eA==","encoding":"base64","size":1})");

  BOOST_TEST(fixture.requests("/fast", 200) == 1.0);
  BOOST_TEST(fixture.requests("/fast", 413) == 1.0);
  BOOST_TEST(fixture.requests("unknown", 404) == 1.0);
  BOOST_TEST(fixture.requests("/keyed", 401) == 1.0);

  const auto health = fixture.post("/health", "", {}, "GET");
  BOOST_TEST(health.status == 200);
  fixture.publisher->detach();
  BOOST_TEST(fixture.post("/ready", "", {}, "GET").status == 503);
  const auto stopped = fixture.post("/fast", "{}");
  BOOST_TEST(stopped.status == 503);
  BOOST_TEST(stopped.headers.at(0).second == "7");
}

BOOST_AUTO_TEST_CASE(a_reliable_request_is_answered_once_its_offset_is_committed) {
  HandlerFixture fixture(kHandlerTables);
  auto answer = std::async(std::launch::async, [&] {
    return fixture.post("/reliable", R"({"n":1})", MapHeaders{{"X-Tenant", "acme"}});
  });
  const auto received = fixture.recording->wait_for(1, 5s);
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].record.key().value() == "acme");
  BOOST_TEST_REQUIRE(received[0].offset.has_value());
  BOOST_TEST(received[0].offset->partition == "webhook");
  BOOST_TEST((answer.wait_for(50ms) == std::future_status::timeout));  // not committed yet
  fixture.tracker->committed(received[0].offset->value);
  const auto response = answer.get();
  BOOST_TEST(response.status == 200);
  BOOST_TEST(nlohmann::json::parse(response.body)["acknowledged"] == true);

  // Never committed: 503 after ack_timeout_ms, with Retry-After.
  const auto started = std::chrono::steady_clock::now();
  const auto late = fixture.post("/reliable", R"({"n":2})");
  BOOST_TEST(late.status == 503);
  BOOST_TEST((std::chrono::steady_clock::now() - started >= 300ms));
  BOOST_TEST(nlohmann::json::parse(late.body)["error"].get<std::string>().find(
                 "did not acknowledge") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_full_pipeline_answers_503_instead_of_queueing) {
  HandlerFixture fixture(kHandlerTables, std::make_shared<FullChannel>());
  const auto fast = fixture.post("/fast", "{}");
  BOOST_TEST(fast.status == 503);
  BOOST_TEST(nlohmann::json::parse(fast.body)["error"] ==
             "The connector is at capacity; retry later");
  BOOST_TEST(fixture.post("/reliable", "{}").status == 503);
}

BOOST_AUTO_TEST_CASE(rfc3339_like_chrono) {
  using std::chrono::system_clock;
  const system_clock::time_point whole{std::chrono::seconds(1703325600)};
  BOOST_TEST(rfc3339_utc(whole) == "2023-12-23T10:00:00+00:00");
  BOOST_TEST(rfc3339_utc(whole + std::chrono::milliseconds(123)) ==
             "2023-12-23T10:00:00.123+00:00");
  BOOST_TEST(rfc3339_utc(whole + std::chrono::microseconds(123456)) ==
             "2023-12-23T10:00:00.123456+00:00");
}

// The connector with its real listener and a recording channel: a reliable request waiting for
// its commit is answered 503 when the runtime shuts the connector down, and shutdown() returns
// (civetweb's mg_stop waits for every handler thread).
BOOST_AUTO_TEST_CASE(shutdown_answers_waiting_requests_and_stops_the_listener) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto config = load(
      "[server]\nhost = \"127.0.0.1\"\nport = 0\nack_timeout_ms = 30000\n"
      "[[routes]]\nfrom = \"/reliable\"\nto = \"/default/r\"\nreliable_dispatch = true\n");
  WebhookConnector connector(dc::Environment{});
  connector.initialize(dc::ConnectorContext::standalone(config, {dc::Offset("webhook", 41)}));
  BOOST_TEST(connector.producer_configs().at(0).reliable_dispatch);
  auto channel = std::make_shared<dc::testing::RecordingSourceChannel>();
  connector.start_streaming(dc::SourceSender(channel));
  const std::string url = "http://127.0.0.1:" + std::to_string(connector.port());

  HttpClient client;
  BOOST_TEST(client.get(url + "/ready").status == 200);
  auto waiting = std::async(std::launch::async, [&] {
    HttpClient sender;
    return sender.post(url + "/reliable", R"({"n":1})");
  });
  const auto received = channel->wait_for(1, 5s);
  BOOST_TEST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].offset->value == 42u);  // above the resume offset
  // A commit below its offset answers nothing; the shutdown answers it.
  connector.commit({dc::Offset("webhook", 41)});
  BOOST_TEST((waiting.wait_for(100ms) == std::future_status::timeout));
  const auto started = std::chrono::steady_clock::now();
  channel->close();  // as the runtime does before shutdown()
  connector.shutdown();
  BOOST_TEST((std::chrono::steady_clock::now() - started < 3s));
  const auto answer = waiting.get();
  BOOST_TEST(answer.status == 503);
  BOOST_TEST(answer.header("retry-after").has_value());
  BOOST_TEST(client.get(url + "/ready").status == 0);  // nothing listens any more
  curl_global_cleanup();
}

BOOST_AUTO_TEST_CASE(a_commit_at_the_offset_answers_the_request) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
  auto config = load(
      "[server]\nhost = \"127.0.0.1\"\nport = 0\n"
      "[[routes]]\nfrom = \"/reliable\"\nto = \"/default/r\"\nreliable_dispatch = true\n");
  WebhookConnector connector(dc::Environment{});
  connector.initialize(dc::ConnectorContext::standalone(config));
  auto channel = std::make_shared<dc::testing::RecordingSourceChannel>();
  connector.start_streaming(dc::SourceSender(channel));
  const std::string url = "http://127.0.0.1:" + std::to_string(connector.port());
  auto waiting = std::async(std::launch::async, [&] {
    HttpClient sender;
    return sender.post(url + "/reliable", R"({"n":2})");
  });
  const auto received = channel->wait_for(1, 5s);
  BOOST_TEST_REQUIRE(received.size() == 1u);
  connector.commit({dc::Offset("other", 1000), *received[0].offset});
  const auto answer = waiting.get();
  BOOST_TEST(answer.status == 200);
  BOOST_TEST(answer.json()["acknowledged"] == true);
  connector.shutdown();
  curl_global_cleanup();
}
