// The client with TLS and JWT tokens against the embedded broker running with a certificate and
// an HS256 secret: accepted with a good token from any source, rejected with a clear error
// otherwise.
#include <boost/test/unit_test.hpp>
#include <fstream>

#include "client_test_support.hpp"
#include "credentials.hpp"

using namespace danube::client;
using namespace danube::client::test;
using namespace std::chrono_literals;
namespace testkit = danube::testkit;

namespace {

const std::string kSecret = "client-test-secret-of-some-length";

struct SecureBroker {
  SecureBroker() {
    testkit::BrokerOptions options;
    options.tls = testkit::TlsOptions{certificate.cert_file(), certificate.key_file()};
    options.jwt_secret = kSecret;
    broker.emplace(options);
    broker->start();
  }

  ClientOptions options() const {
    ClientOptions result = fast_client_options(broker->service_url());
    result.tls = TlsOptions{certificate.cert_file().string(), "", ""};
    return result;
  }

  danube::test::SelfSignedCertificate certificate;
  std::optional<testkit::EmbeddedBroker> broker;
};

ProducerOptions reliable(const std::string& topic) {
  ProducerOptions options;
  options.topic = topic;
  options.name = "secure-producer";
  options.dispatch = Dispatch::reliable;
  return options;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(tls_with_a_valid_token_round_trips, SecureBroker) {
  BOOST_TEST(broker->service_url().rfind("https://", 0) == 0u);
  auto options = this->options();
  options.token = danube::test::make_jwt(kSecret, danube::test::valid_claims());
  auto client = DanubeClient::create(options);
  BOOST_REQUIRE(client.ok());
  auto producer = client.value().create_producer(reliable("/default/secure"));
  BOOST_REQUIRE_MESSAGE(producer.ok(), error_text(producer));
  ConsumerOptions consumer_options;
  consumer_options.topic = "/default/secure";
  consumer_options.consumer_name = "secure-consumer";
  consumer_options.subscription = "secure";
  auto consumer = client.value().subscribe(consumer_options);
  BOOST_REQUIRE_MESSAGE(consumer.ok(), error_text(consumer));
  BOOST_REQUIRE(producer.value()->send(text_message("secret payload")).get().ok());
  auto received = receive_n(*consumer.value(), 1, Acks::each);
  BOOST_REQUIRE_EQUAL(received.size(), 1u);
  BOOST_TEST(received[0].payload == "secret payload");
}

BOOST_FIXTURE_TEST_CASE(tokens_come_from_a_file_or_a_supplier_called_per_request, SecureBroker) {
  const auto token_file = std::filesystem::temp_directory_path() / "danube-client-test.jwt";
  {
    std::ofstream out(token_file);
    out << danube::test::make_jwt(kSecret, danube::test::valid_claims()) << "\n";
  }
  auto from_file = options();
  from_file.token_file = token_file.string();
  auto client = DanubeClient::create(from_file);
  BOOST_REQUIRE(client.ok());
  BOOST_TEST(client.value().create_producer(reliable("/default/file-token")).ok());
  std::filesystem::remove(token_file);

  std::atomic<int> calls{0};
  auto from_supplier = options();
  from_supplier.token_supplier = [&] {
    ++calls;
    return danube::test::make_jwt(kSecret, danube::test::valid_claims());
  };
  auto supplied = DanubeClient::create(from_supplier);
  BOOST_REQUIRE(supplied.ok());
  auto producer = supplied.value().create_producer(reliable("/default/supplied-token"));
  BOOST_REQUIRE(producer.ok());
  BOOST_REQUIRE(producer.value()->send(text_message("a")).get().ok());
  BOOST_REQUIRE(producer.value()->send(text_message("b")).get().ok());
  BOOST_TEST(calls.load() >= 4);  // lookup, create, and each send asked for a fresh token
}

BOOST_FIXTURE_TEST_CASE(a_bad_or_missing_token_is_rejected_with_a_clear_error, SecureBroker) {
  auto forged = options();
  forged.token = danube::test::make_jwt("not-the-secret", danube::test::valid_claims());
  auto client = DanubeClient::create(forged);
  BOOST_REQUIRE(client.ok());
  auto rejected = client.value().create_producer(reliable("/default/forged"));
  BOOST_REQUIRE(!rejected.ok());
  BOOST_TEST((rejected.error().category() == ErrorCategory::unauthenticated));
  BOOST_TEST(rejected.error().grpc_code() == 16);
  BOOST_TEST_MESSAGE("forged token: " << rejected.error().to_string());
  BOOST_TEST(rejected.error().message().find("CreateProducer /default/forged") !=
             std::string::npos);

  auto expired = options();
  expired.token =
      danube::test::make_jwt(kSecret, danube::test::valid_claims(-std::chrono::hours(2)));
  auto expired_client = DanubeClient::create(expired);
  auto too_late = expired_client.value().create_producer(reliable("/default/expired"));
  BOOST_REQUIRE(!too_late.ok());
  BOOST_TEST((too_late.error().category() == ErrorCategory::unauthenticated));

  auto anonymous = DanubeClient::create(options());
  auto refused = anonymous.value().create_producer(reliable("/default/anonymous"));
  BOOST_REQUIRE(!refused.ok());
  BOOST_TEST((refused.error().category() == ErrorCategory::unauthenticated));
}

BOOST_FIXTURE_TEST_CASE(plaintext_to_a_tls_broker_fails_as_unavailable, SecureBroker) {
  auto plaintext = fast_client_options("http://" + broker->address());
  plaintext.retry.max_retries = 1;
  plaintext.connect_timeout = 500ms;  // a TLS broker never completes a plaintext connection
  plaintext.token = danube::test::make_jwt(kSecret, danube::test::valid_claims());
  auto client = DanubeClient::create(plaintext);
  BOOST_REQUIRE(client.ok());
  auto failed = client.value().create_producer(reliable("/default/plain"));
  BOOST_REQUIRE(!failed.ok());
  BOOST_TEST((failed.error().category() == ErrorCategory::unavailable));
  BOOST_TEST(failed.error().message().find("could not connect") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(invalid_client_options_are_reported_before_connecting) {
  ClientOptions missing_ca;
  missing_ca.service_url = "https://127.0.0.1:6650";
  missing_ca.tls = TlsOptions{"/nonexistent/ca.pem", "", ""};
  auto result = DanubeClient::create(missing_ca);
  BOOST_REQUIRE(!result.ok());
  BOOST_TEST((result.error().category() == ErrorCategory::invalid_argument));
  BOOST_TEST(result.error().message().find("/nonexistent/ca.pem") != std::string::npos);

  ClientOptions two_tokens;
  two_tokens.service_url = "http://127.0.0.1:6650";
  two_tokens.token = "a";
  two_tokens.token_file = "/tmp/b";
  BOOST_TEST(!DanubeClient::create(two_tokens).ok());
}
