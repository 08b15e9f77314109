// [auth] through the runtime, against the embedded broker with an HS256 secret (and TLS): a
// sink and a source whose client the runtime makes from auth.token or auth.token_file (and
// auth.tls_ca_file) move records end to end; a token the broker does not accept makes the
// runtime fail with an error that says so.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "common/supervision.hpp"
#include "credentials.hpp"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

const std::string kSecret = "runtime-auth-test-secret-0123456789";

std::string good_token() {
  return danube::test::make_jwt(kSecret, danube::test::valid_claims());
}

std::filesystem::path write_token(const std::filesystem::path& dir, const std::string& token) {
  const auto file = dir / "token.jwt";
  std::ofstream out(file);
  out << token << "\n";
  return file;
}

// Runs a sink (authenticated with `sink_auth`) and then a source (with `source_auth`) on one
// topic and checks that all `count` records went through both.
void round_trip(testkit::EmbeddedBroker& broker, const connect::AuthSettings& sink_auth,
                const connect::AuthSettings& source_auth, const std::string& name) {
  const std::string topic = "/default/" + name;
  broker.create_topic(topic, true);
  TempDirectory state;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};

  auto received = std::make_shared<CapturingSink::Shared>();
  auto sink_config = fast_config(broker.service_url(), name + "-sink");
  sink_config.auth = sink_auth;
  const auto sink = runtimes.add(spawn_sink(
      system, std::make_unique<CapturingSink>(std::vector{subscription(topic, name)}, received),
      sink_config));
  BOOST_REQUIRE(subscribed(broker, topic, name));

  auto shared = std::make_shared<ScriptedSource::Shared>();
  for (std::uint64_t i = 0; i < 20; ++i) {
    shared->push({connect::SourceRecord::from_string("", "a-" + std::to_string(i)),
                  connect::Offset("a", i)});
  }
  auto source_settings = source_config(broker.service_url(), name + "-source", state.path);
  source_settings.auth = source_auth;
  const auto source =
      runtimes.add(spawn_source(system,
                                std::make_unique<ScriptedSource>(
                                    shared, std::vector{connect::ProducerConfig(topic, 0, true)}),
                                source_settings));

  BOOST_REQUIRE(wait_until<CapturingSink::Shared>(
      *received, [](const auto& s) { return s.records.size() >= 20; }));
  const auto source_end = drain_and_wait(system, source);
  const auto sink_end = drain_and_wait(system, sink);
  BOOST_REQUIRE(source_end && sink_end);
  BOOST_TEST(source_end->status.processed == 20u);
  BOOST_TEST(!source_end->reason);
  BOOST_TEST(sink_end->status.processed == 20u);
  BOOST_TEST(!sink_end->reason);
  std::set<std::string> payloads;
  std::lock_guard lock(received->mutex);
  for (const auto& record : received->records)
    payloads.insert(std::string(record.as_string()));
  BOOST_TEST(payloads.size() == 20u);
  BOOST_TEST(broker.counters(topic)->acked == 20u);
}

struct JwtBroker {
  JwtBroker() {
    testkit::BrokerOptions options;
    options.jwt_secret = kSecret;
    broker.emplace(options);
    broker->start();
  }
  std::optional<testkit::EmbeddedBroker> broker;
  TempDirectory files;
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_sink_and_a_source_with_tokens_work_against_a_broker_that_demands_them,
                        JwtBroker) {
  connect::AuthSettings inline_token;
  inline_token.token = good_token();
  connect::AuthSettings token_file;
  token_file.token_file = write_token(files.path, good_token());
  BOOST_TEST_CONTEXT("sink with token_file, source with token") {
    round_trip(*broker, token_file, inline_token, "tokens-one");
  }
  BOOST_TEST_CONTEXT("sink with token, source with token_file") {
    round_trip(*broker, inline_token, token_file, "tokens-two");
  }
}

BOOST_FIXTURE_TEST_CASE(a_token_the_broker_rejects_fails_the_runtime_with_a_clear_error,
                        JwtBroker) {
  broker->create_topic("/default/guarded", true);
  TempDirectory state;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};
  connect::AuthSettings forged;
  forged.token = danube::test::make_jwt("not-the-secret", danube::test::valid_claims());

  auto sink_config = fast_config(broker->service_url(), "forged-sink");
  sink_config.auth = forged;
  const auto sink = runtimes.add(spawn_sink(
      system,
      std::make_unique<CapturingSink>(std::vector{subscription("/default/guarded", "guarded")},
                                      std::make_shared<CapturingSink::Shared>()),
      sink_config));
  const auto sink_reason = wait_for_exit(system, sink);
  BOOST_REQUIRE_MESSAGE(sink_reason, "the sink did not stop");
  BOOST_TEST_MESSAGE("sink: " << system.render(*sink_reason));
  BOOST_CHECK(failure_kind(*sink_reason) == std::optional(connect::ErrorKind::danube));
  BOOST_TEST(system.render(*sink_reason).find("unauthenticated") != std::string::npos);
  BOOST_TEST(system.render(*sink_reason).find("invalid token") != std::string::npos);

  auto shared = std::make_shared<ScriptedSource::Shared>();
  shared->push({connect::SourceRecord::from_string("", "never"), connect::Offset("g", 0)});
  auto source_settings = source_config(broker->service_url(), "forged-source", state.path);
  source_settings.auth = forged;
  const auto source = runtimes.add(
      spawn_source(system,
                   std::make_unique<ScriptedSource>(
                       shared, std::vector{connect::ProducerConfig("/default/guarded", 0, true)}),
                   source_settings));
  const auto source_reason = wait_for_exit(system, source);
  BOOST_REQUIRE_MESSAGE(source_reason, "the source did not stop");
  BOOST_TEST_MESSAGE("source: " << system.render(*source_reason));
  BOOST_CHECK(failure_kind(*source_reason) == std::optional(connect::ErrorKind::danube));
  BOOST_TEST(system.render(*source_reason).find("unauthenticated") != std::string::npos);
  BOOST_TEST(broker->counters("/default/guarded")->published == 0u);
}

BOOST_AUTO_TEST_CASE(tls_with_a_ca_file_and_a_token_round_trips) {
  danube::test::SelfSignedCertificate certificate;
  testkit::BrokerOptions options;
  options.tls = testkit::TlsOptions{certificate.cert_file(), certificate.key_file()};
  options.jwt_secret = kSecret;
  testkit::EmbeddedBroker broker(options);
  broker.start();
  BOOST_REQUIRE(broker.service_url().rfind("https://", 0) == 0u);
  connect::AuthSettings auth;
  auth.tls_ca_file = certificate.cert_file();
  auth.token = good_token();
  round_trip(broker, auth, auth, "tls-authed");
}
