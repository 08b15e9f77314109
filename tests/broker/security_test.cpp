// Server-only TLS and HS256 JWT authentication, as Danube's `auth.mode: tls`.

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "broker_test_support.hpp"

namespace danube::testkit::test {
namespace {

using grpc::StatusCode;

const std::string kSecret = "test-secret-that-is-long-enough";

using Certificate = danube::test::SelfSignedCertificate;

std::shared_ptr<grpc::ChannelCredentials> trusting(const Certificate& certificate) {
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = certificate.cert_pem();
  return grpc::SslCredentials(options);
}

BrokerOptions with_jwt() {
  auto options = fast_options();
  options.jwt_secret = kSecret;
  return options;
}

grpc::Status lookup_with_header(Client& client, const std::string& header_value) {
  danube::TopicLookupRequest request;
  request.set_topic("/default/t");
  danube::TopicLookupResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 5s);
  if (!header_value.empty()) context.AddMetadata("authorization", header_value);
  return client.discovery->TopicLookup(&context, request, &response);
}

BOOST_AUTO_TEST_CASE(tls_serves_clients_that_trust_the_certificate) {
  Certificate certificate;
  auto options = fast_options();
  options.tls = TlsOptions{certificate.cert_file(), certificate.key_file()};
  RunningBroker fixture(options);
  BOOST_TEST(fixture.broker.service_url().rfind("https://127.0.0.1:", 0) == 0U);

  Client client(fixture.broker.address(), trusting(certificate));
  const auto producer = client.producer("/default/secure", "p", true);
  const auto consumer = client.consumer("/default/secure", "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, "/default/secure", "s", 1));
  client.send_ok(producer, "/default/secure", "over-tls");
  BOOST_TEST(reader.take(1).front().payload() == "over-tls");
  danube::TopicLookupResponse lookup;
  BOOST_REQUIRE(client.lookup("/default/secure", &lookup).ok());
  BOOST_TEST(lookup.broker_url() == fixture.broker.service_url());
}

BOOST_AUTO_TEST_CASE(plaintext_client_cannot_talk_to_a_tls_broker) {
  Certificate certificate;
  auto options = fast_options();
  options.tls = TlsOptions{certificate.cert_file(), certificate.key_file()};
  RunningBroker fixture(options);
  Client plaintext(fixture.broker.address());
  BOOST_TEST(plaintext.lookup("/default/t").error_code() == StatusCode::UNAVAILABLE);
}

BOOST_AUTO_TEST_CASE(missing_certificate_file_makes_start_fail_naming_it) {
  TempDir dir;
  auto options = fast_options();
  options.tls = TlsOptions{dir.path() / "absent-cert.pem", dir.path() / "absent-key.pem"};
  EmbeddedBroker broker(options);
  try {
    broker.start();
    BOOST_FAIL("start() accepted missing TLS files");
  } catch (const std::runtime_error& error) {
    BOOST_TEST(std::string(error.what()).find("absent-") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(every_rpc_needs_a_bearer_token) {
  RunningBroker fixture(with_jwt());
  Client anonymous(fixture.broker.address());
  const auto status = lookup_with_header(anonymous, "");
  BOOST_TEST(status.error_code() == StatusCode::UNAUTHENTICATED);
  BOOST_TEST(status.error_message().find("authorization") != std::string::npos);
  BOOST_TEST(anonymous.create_producer("/default/t", "p", false).error_code() ==
             StatusCode::UNAUTHENTICATED);
  danube::HealthCheckResponse health;
  BOOST_TEST(anonymous.health(0, 1, &health).error_code() == StatusCode::UNAUTHENTICATED);
  danube_schema::ListSubjectsResponse subjects;
  grpc::ClientContext context;
  anonymous.prepare(context);
  BOOST_TEST(anonymous.schemas->ListSubjects(&context, {}, &subjects).error_code() ==
             StatusCode::UNAUTHENTICATED);
  StreamReader stream(anonymous, 1);
  BOOST_TEST(stream.wait_finished()->error_code() == StatusCode::UNAUTHENTICATED);
}

BOOST_AUTO_TEST_CASE(valid_token_with_either_bearer_spelling_is_accepted) {
  RunningBroker fixture(with_jwt());
  Client client(fixture.broker.address(), nullptr, make_jwt(kSecret, valid_claims()));
  BOOST_TEST(client.create_producer("/default/t", "p", false).ok());
  BOOST_TEST(lookup_with_header(client, "Bearer " + client.token()).ok());
  BOOST_TEST(lookup_with_header(client, "bearer " + client.token()).ok());
  BOOST_TEST(lookup_with_header(client, "BEARER " + client.token()).error_code() ==
             StatusCode::UNAUTHENTICATED);
  BOOST_TEST(lookup_with_header(client, client.token()).error_code() ==
             StatusCode::UNAUTHENTICATED);
  const auto consumer = client.consumer("/default/t", "c", "s", SubType::shared);
  StreamReader reader(client, consumer);
  BOOST_TEST(wait_connected(fixture.broker, "/default/t", "s", 1));
}

BOOST_AUTO_TEST_CASE(bad_tokens_are_unauthenticated_with_a_reason) {
  RunningBroker fixture(with_jwt());
  Client client(fixture.broker.address());
  const auto reason_for = [&](const std::string& token) {
    const auto status = lookup_with_header(client, "Bearer " + token);
    BOOST_TEST(status.error_code() == StatusCode::UNAUTHENTICATED);
    return status.error_message();
  };
  BOOST_TEST(reason_for(make_jwt("another-secret", valid_claims())).find("signature") !=
             std::string::npos);
  BOOST_TEST(reason_for(make_jwt(kSecret, valid_claims(-std::chrono::hours(1)))).find("expired") !=
             std::string::npos);
  BOOST_TEST(reason_for(make_jwt(kSecret, R"({"sub":"x"})")).find("exp") != std::string::npos);
  BOOST_TEST(reason_for(make_jwt(kSecret, valid_claims(), R"({"alg":"none"})")).find("HS256") !=
             std::string::npos);
  BOOST_TEST(reason_for(make_jwt(kSecret, valid_claims(), R"({"alg":"HS512"})")).find("HS256") !=
             std::string::npos);
  BOOST_TEST(reason_for("not-a-jwt").find("malformed") != std::string::npos);
  // A header nested past the JSON limit is refused unparsed.
  BOOST_TEST(reason_for(make_jwt(kSecret, valid_claims(),
                                 std::string(200, '[') + std::string(200, ']')))
                 .find("malformed") != std::string::npos);
  BOOST_TEST(reason_for("a.b.c").find("malformed") != std::string::npos);
  // Tampered claims keep the old signature: rejected.
  const auto good = make_jwt(kSecret, valid_claims());
  const auto first_dot = good.find('.');
  const auto second_dot = good.find('.', first_dot + 1);
  const auto tampered = good.substr(0, first_dot + 1) +
                        base64url(valid_claims(std::chrono::hours(100))) + good.substr(second_dot);
  BOOST_TEST(reason_for(tampered).find("signature") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(tls_and_jwt_together) {
  Certificate certificate;
  auto options = with_jwt();
  options.tls = TlsOptions{certificate.cert_file(), certificate.key_file()};
  RunningBroker fixture(options);
  Client client(fixture.broker.address(), trusting(certificate), make_jwt(kSecret, valid_claims()));
  BOOST_TEST(client.create_producer("/default/t", "p", true).ok());
  Client no_token(fixture.broker.address(), trusting(certificate));
  BOOST_TEST(no_token.lookup("/default/t").error_code() == StatusCode::UNAUTHENTICATED);
}

}  // namespace
}  // namespace danube::testkit::test
