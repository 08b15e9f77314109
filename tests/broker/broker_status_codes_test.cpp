// Every row of protocol.md table 2.16 that applies to a single standalone broker without RBAC,
// exercised through the raw generated stubs.

#include <boost/test/unit_test.hpp>

#include "broker_test_support.hpp"

namespace danube::testkit::test {
namespace {

using grpc::StatusCode;

BOOST_AUTO_TEST_SUITE(discovery)

BOOST_AUTO_TEST_CASE(lookup_answers_connect_with_own_url_for_existing_topic) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  client.producer("/default/looked-up", "p", false);

  danube::TopicLookupRequest request;
  request.set_request_id(77);
  request.set_topic("/default/looked-up");
  danube::TopicLookupResponse response;
  grpc::ClientContext context;
  client.prepare(context);
  const auto status = client.discovery->TopicLookup(&context, request, &response);
  BOOST_REQUIRE(status.ok());
  BOOST_TEST(response.request_id() == 77U);
  BOOST_TEST(response.response_type() == danube::TopicLookupResponse::Connect);
  BOOST_TEST(response.broker_url() == fixture.broker.service_url());
  BOOST_TEST(response.connect_url() == fixture.broker.service_url());
  BOOST_TEST(!response.proxy());
  BOOST_TEST(fixture.broker.service_url().rfind("http://127.0.0.1:", 0) == 0U);
}

BOOST_AUTO_TEST_CASE(lookup_of_unknown_topic_is_not_found) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  BOOST_TEST(client.lookup("/default/nobody-made-this").error_code() == StatusCode::NOT_FOUND);
  BOOST_TEST(client.lookup("/unknown-namespace/t").error_code() == StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(bad_topic_names_are_invalid_argument_everywhere) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  for (const std::string bad : {"", "default/t", "/default", "/a/b/c", "/default/with.dot",
                                "/default/sp ace", "//t", "/default/"}) {
    BOOST_TEST_CONTEXT("topic '" << bad << "'") {
      BOOST_TEST(client.lookup(bad).error_code() == StatusCode::INVALID_ARGUMENT);
      danube::TopicPartitionsResponse partitions;
      BOOST_TEST(client.partitions(bad, &partitions).error_code() == StatusCode::INVALID_ARGUMENT);
      BOOST_TEST(client.create_producer(bad, "p", false).error_code() ==
                 StatusCode::INVALID_ARGUMENT);
      BOOST_TEST(client.subscribe(bad, "c", "s", SubType::shared).error_code() ==
                 StatusCode::INVALID_ARGUMENT);
    }
  }
}

BOOST_AUTO_TEST_CASE(partitions_exact_name_then_lexicographic_prefix_then_empty) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/orders", true, 12);
  fixture.broker.create_topic("/default/orders-partly", true);  // not a -part-N name
  fixture.broker.create_topic("/default/single", false);

  danube::TopicPartitionsResponse response;
  BOOST_REQUIRE(client.partitions("/default/orders", &response).ok());
  std::vector<std::string> got(response.partitions().begin(), response.partitions().end());
  std::vector<std::string> expected;
  for (int i = 0; i < 12; ++i)
    expected.push_back("/default/orders-part-" + std::to_string(i));
  std::sort(expected.begin(), expected.end());
  BOOST_TEST(got == expected, boost::test_tools::per_element());
  BOOST_TEST(got.at(2) == "/default/orders-part-10");  // Danube sorts as strings

  danube::TopicPartitionsResponse exact;
  BOOST_REQUIRE(client.partitions("/default/single", &exact).ok());
  BOOST_TEST(exact.partitions_size() == 1);
  BOOST_TEST(exact.partitions(0) == "/default/single");

  danube::TopicPartitionsResponse none;
  BOOST_REQUIRE(client.partitions("/default/absent", &none).ok());
  BOOST_TEST(none.partitions_size() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(create_producer)

BOOST_AUTO_TEST_CASE(auto_creates_topic_and_is_idempotent_by_name) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  danube::ProducerResponse first;
  BOOST_REQUIRE(client.create_producer("/default/auto", "alpha", true, &first).ok());
  BOOST_TEST(first.producer_id() != 0U);
  BOOST_TEST(first.producer_name() == "alpha");
  BOOST_TEST(first.request_id() != 0U);
  BOOST_TEST(client.lookup("/default/auto").ok());

  danube::ProducerResponse again;
  BOOST_REQUIRE(client.create_producer("/default/auto", "alpha", true, &again).ok());
  BOOST_TEST(again.producer_id() == first.producer_id());

  danube::ProducerResponse other;
  BOOST_REQUIRE(client.create_producer("/default/auto", "beta", true, &other).ok());
  BOOST_TEST(other.producer_id() != first.producer_id());
  BOOST_TEST(fixture.broker.topics() == std::vector<std::string>{"/default/auto"});
}

BOOST_AUTO_TEST_CASE(strategy_mismatch_is_failed_precondition) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  client.producer("/default/reliable-one", "p", true);
  const auto status = client.create_producer("/default/reliable-one", "q", false);
  BOOST_TEST(status.error_code() == StatusCode::FAILED_PRECONDITION);
  BOOST_TEST(status.error_message().find("dispatch strategy") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(empty_producer_name_and_bad_strategy_are_invalid_argument) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  BOOST_TEST(client.create_producer("/default/t", "", false).error_code() ==
             StatusCode::INVALID_ARGUMENT);
  danube::ProducerRequest request;
  request.set_producer_name("p");
  request.set_topic_name("/default/t");
  request.set_dispatch_strategy(static_cast<danube::DispatchStrategy>(7));
  danube::ProducerResponse response;
  grpc::ClientContext context;
  client.prepare(context);
  BOOST_TEST(client.producers->CreateProducer(&context, request, &response).error_code() ==
             StatusCode::INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(missing_namespace_is_unavailable) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto status = client.create_producer("/nowhere/t", "p", false);
  BOOST_TEST(status.error_code() == StatusCode::UNAVAILABLE);
  BOOST_TEST(status.error_message().find("namespace") != std::string::npos);
  fixture.broker.create_namespace("nowhere");
  BOOST_TEST(client.create_producer("/nowhere/t", "p", false).ok());
}

BOOST_AUTO_TEST_CASE(auto_create_off_is_not_found_until_admin_creates) {
  auto options = fast_options();
  options.auto_create_topics = false;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  BOOST_TEST(client.create_producer("/default/t", "p", false).error_code() ==
             StatusCode::NOT_FOUND);
  fixture.broker.create_topic("/default/t", false);
  BOOST_TEST(client.create_producer("/default/t", "p", false).ok());
}

BOOST_AUTO_TEST_CASE(partitioned_and_plain_topic_of_one_base_cannot_coexist) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  client.producer("/default/base", "p", false);
  BOOST_TEST(client.create_producer("/default/base-part-0", "p", false).error_code() ==
             StatusCode::ALREADY_EXISTS);
  client.producer("/default/other-part-3", "p", false);
  BOOST_TEST(client.create_producer("/default/other", "p", false).error_code() ==
             StatusCode::ALREADY_EXISTS);
}

BOOST_AUTO_TEST_CASE(schema_subject_is_adopted_then_enforced) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  BOOST_TEST(client.create_producer("/default/typed", "p1", false, nullptr, "orders-v").ok());
  BOOST_TEST(client.create_producer("/default/typed", "p2", false, nullptr, "orders-v").ok());
  BOOST_TEST(client.create_producer("/default/typed", "p3", false).ok());  // no schema_ref
  const auto mismatch = client.create_producer("/default/typed", "p4", false, nullptr, "other");
  BOOST_TEST(mismatch.error_code() == StatusCode::FAILED_PRECONDITION);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(send_message)

BOOST_AUTO_TEST_CASE(unknown_producer_is_not_found) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  client.producer("/default/t", "p", false);
  BOOST_TEST(client.send(client.message(12345, "/default/t", "x")).error_code() ==
             StatusCode::NOT_FOUND);
  danube::StreamMessage no_id;
  no_id.set_payload("x");
  BOOST_TEST(client.send(no_id).error_code() == StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(reply_echoes_request_id) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto id = client.producer("/default/t", "p", true);
  danube::MessageResponse response;
  BOOST_REQUIRE(client.send(client.message(id, "/default/t", "x", 4242), &response).ok());
  BOOST_TEST(response.request_id() == 4242U);
  BOOST_TEST(fixture.broker.counters("/default/t")->published == 1U);
}

BOOST_AUTO_TEST_CASE(payload_over_the_size_policy_is_invalid_argument) {
  auto options = fast_options();
  options.max_message_size = 1000;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const auto id = client.producer("/default/t", "p", false);
  BOOST_TEST(client.send(client.message(id, "/default/t", std::string(1000, 'a'))).ok());
  BOOST_TEST(client.send(client.message(id, "/default/t", std::string(1001, 'a'))).error_code() ==
             StatusCode::INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(request_over_grpc_4_mib_limit_is_rejected_by_transport) {
  RunningBroker fixture;  // max_message_size stays 10 MB: the gRPC limit bites first
  Client client(fixture.broker.address());
  const auto id = client.producer("/default/t", "p", false);
  const auto status = client.send(client.message(id, "/default/t", std::string(5 << 20, 'a')));
  BOOST_TEST(status.error_code() == StatusCode::RESOURCE_EXHAUSTED);
  BOOST_TEST(fixture.broker.counters("/default/t")->published == 0U);
}

BOOST_AUTO_TEST_CASE(message_for_another_topic_is_permission_denied) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto id = client.producer("/default/mine", "p", false);
  client.producer("/default/theirs", "p", false);
  const auto status = client.send(client.message(id, "/default/theirs", "x"));
  BOOST_TEST(status.error_code() == StatusCode::PERMISSION_DENIED);
  BOOST_TEST(status.error_message().find("Unable to publish the message") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(consumer_rpcs)

BOOST_AUTO_TEST_CASE(subscribe_never_creates_topics) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  BOOST_TEST(client.subscribe("/default/absent", "c", "s", SubType::shared).error_code() ==
             StatusCode::NOT_FOUND);
  BOOST_TEST(fixture.broker.topics().empty());
}

BOOST_AUTO_TEST_CASE(subscribe_rejects_empty_names_and_unknown_type) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", true);
  BOOST_TEST(client.subscribe("/default/t", "", "s", SubType::shared).error_code() ==
             StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(client.subscribe("/default/t", "c", "", SubType::shared).error_code() ==
             StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(client.subscribe("/default/t", "c", "s", static_cast<SubType>(9)).error_code() ==
             StatusCode::INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(same_consumer_name_takes_over_with_same_id) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", true);
  danube::ConsumerResponse first, second;
  BOOST_REQUIRE(client.subscribe("/default/t", "worker", "sub", SubType::shared, &first).ok());
  BOOST_REQUIRE(client.subscribe("/default/t", "worker", "sub", SubType::shared, &second).ok());
  BOOST_TEST(first.consumer_id() != 0U);
  BOOST_TEST(second.consumer_id() == first.consumer_id());
  BOOST_TEST(second.consumer_name() == "worker");
  BOOST_TEST(fixture.broker.subscription("/default/t", "sub")->consumers == 1U);
}

BOOST_AUTO_TEST_CASE(exclusive_subscription_rejects_another_name_while_active) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", true);
  const auto owner = client.consumer("/default/t", "owner", "excl", SubType::exclusive);
  const auto status = client.subscribe("/default/t", "intruder", "excl", SubType::exclusive);
  BOOST_TEST(status.error_code() == StatusCode::PERMISSION_DENIED);
  BOOST_TEST(status.error_message().find("Exclusive subscription can't be shared") !=
             std::string::npos);
  // The owner itself may come back.
  BOOST_TEST(client.consumer("/default/t", "owner", "excl", SubType::exclusive) == owner);
}

BOOST_AUTO_TEST_CASE(receive_for_unknown_consumer_is_not_found) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  StreamReader reader(client, 999);
  const auto status = reader.wait_finished();
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST(status->error_code() == StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(ack_and_nack_unknown_topic_is_not_found_unknown_subscription_internal) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", true);
  client.consumer("/default/t", "c", "known", SubType::shared);
  danube::StreamMessage message;
  // Danube answers INTERNAL for an unknown topic too (protocol.md 2.7); we answer NOT_FOUND, as
  // every other rpc does for an unknown topic.
  message.mutable_msg_id()->set_topic_name("/default/absent");
  const auto acked = client.ack(message, "known");
  BOOST_TEST(acked.error_code() == StatusCode::NOT_FOUND);
  BOOST_TEST(acked.error_message().find("/default/absent") != std::string::npos);
  BOOST_TEST(client.nack(message, "known").error_code() == StatusCode::NOT_FOUND);
  message.mutable_msg_id()->set_topic_name("/default/t");
  BOOST_TEST(client.ack(message, "unknown").error_code() == StatusCode::INTERNAL);
  BOOST_TEST(client.nack(message, "unknown").error_code() == StatusCode::INTERNAL);
  // An offset that is not in flight is a late ack: OK and ignored.
  message.set_request_id(31);
  danube::AckRequest request;
  request.set_request_id(31);
  *request.mutable_msg_id() = message.msg_id();
  request.set_subscription_name("known");
  danube::AckResponse response;
  grpc::ClientContext context;
  client.prepare(context);
  BOOST_TEST(client.consumers->Ack(&context, request, &response).ok());
  BOOST_TEST(response.request_id() == 31U);
  BOOST_TEST(fixture.broker.counters("/default/t")->acked == 0U);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(health_check)

BOOST_AUTO_TEST_CASE(ok_for_live_close_for_unknown_invalid_for_bad_client_type) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto producer = client.producer("/default/t", "p", true);
  const auto consumer = client.consumer("/default/t", "c", "s", SubType::shared);
  danube::HealthCheckResponse response;
  BOOST_REQUIRE(client.health(0, producer, &response).ok());
  BOOST_TEST(response.status() == danube::HealthCheckResponse::OK);
  BOOST_REQUIRE(client.health(1, consumer, &response).ok());
  BOOST_TEST(response.status() == danube::HealthCheckResponse::OK);
  BOOST_REQUIRE(client.health(0, 42, &response).ok());
  BOOST_TEST(response.status() == danube::HealthCheckResponse::CLOSE);
  BOOST_REQUIRE(client.health(1, producer, &response).ok());  // a producer id is no consumer
  BOOST_TEST(response.status() == danube::HealthCheckResponse::CLOSE);
  BOOST_TEST(client.health(5, producer, &response).error_code() == StatusCode::INVALID_ARGUMENT);
}

BOOST_AUTO_TEST_CASE(consumer_whose_stream_ended_reports_close_until_it_reconnects) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", true);
  const auto consumer = client.consumer("/default/t", "c", "s", SubType::shared);
  danube::HealthCheckResponse response;
  {
    StreamReader reader(client, consumer);
    BOOST_REQUIRE(wait_connected(fixture.broker, "/default/t", "s", 1));
  }
  BOOST_REQUIRE(wait_connected(fixture.broker, "/default/t", "s", 0));
  BOOST_REQUIRE(client.health(1, consumer, &response).ok());
  BOOST_TEST(response.status() == danube::HealthCheckResponse::CLOSE);
  StreamReader again(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, "/default/t", "s", 1));
  BOOST_REQUIRE(client.health(1, consumer, &response).ok());
  BOOST_TEST(response.status() == danube::HealthCheckResponse::OK);
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace danube::testkit::test
