// Fault injection through the library API: failed calls, latency, cut streams and restarts.

#include <boost/test/unit_test.hpp>

#include "broker_test_support.hpp"

namespace danube::testkit::test {
namespace {

using grpc::StatusCode;

BOOST_AUTO_TEST_CASE(fail_next_fails_exactly_n_calls_with_the_given_status) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto producer = client.producer("/default/t", "p", false);
  fixture.broker.fail_next(Rpc::send_message, 2, static_cast<int>(StatusCode::UNAVAILABLE),
                           "try again");
  const auto first = client.send(client.message(producer, "/default/t", "a"));
  BOOST_TEST(first.error_code() == StatusCode::UNAVAILABLE);
  BOOST_TEST(first.error_message() == "try again");
  BOOST_TEST(client.send(client.message(producer, "/default/t", "b")).error_code() ==
             StatusCode::UNAVAILABLE);
  BOOST_TEST(client.send(client.message(producer, "/default/t", "c")).ok());
  BOOST_TEST(fixture.broker.counters("/default/t")->published == 1U);  // failed calls did nothing
  // Other rpcs were never affected.
  BOOST_TEST(client.lookup("/default/t").ok());
}

BOOST_AUTO_TEST_CASE(fail_next_targets_each_rpc_separately) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", true);
  fixture.broker.fail_next(Rpc::subscribe, 1, static_cast<int>(StatusCode::RESOURCE_EXHAUSTED));
  fixture.broker.fail_next(Rpc::topic_lookup, 1, static_cast<int>(StatusCode::DEADLINE_EXCEEDED));
  fixture.broker.fail_next(Rpc::schema_registry, 1, static_cast<int>(StatusCode::INTERNAL));
  BOOST_TEST(client.subscribe("/default/t", "c", "s", SubType::shared).error_code() ==
             StatusCode::RESOURCE_EXHAUSTED);
  BOOST_TEST(client.subscribe("/default/t", "c", "s", SubType::shared).ok());
  BOOST_TEST(client.lookup("/default/t").error_code() == StatusCode::DEADLINE_EXCEEDED);
  BOOST_TEST(client.lookup("/default/t").ok());
  danube_schema::ListSubjectsResponse subjects;
  {
    grpc::ClientContext context;
    client.prepare(context);
    BOOST_TEST(client.schemas->ListSubjects(&context, {}, &subjects).error_code() ==
               StatusCode::INTERNAL);
  }
  grpc::ClientContext context;
  client.prepare(context);
  BOOST_TEST(client.schemas->ListSubjects(&context, {}, &subjects).ok());
}

BOOST_AUTO_TEST_CASE(injected_failure_on_receive_messages_ends_the_stream) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", true);
  const auto consumer = client.consumer("/default/t", "c", "s", SubType::shared);
  fixture.broker.fail_next(Rpc::receive_messages, 1, static_cast<int>(StatusCode::UNAVAILABLE));
  StreamReader failed(client, consumer);
  const auto status = failed.wait_finished();
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST(status->error_code() == StatusCode::UNAVAILABLE);
  StreamReader works(client, consumer);
  BOOST_TEST(wait_connected(fixture.broker, "/default/t", "s", 1));
}

BOOST_AUTO_TEST_CASE(latency_makes_short_deadlines_expire_and_clears) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.create_topic("/default/t", false);
  fixture.broker.set_latency(Rpc::topic_lookup, 2s);
  {
    danube::TopicLookupRequest request;
    request.set_topic("/default/t");
    danube::TopicLookupResponse response;
    grpc::ClientContext context;
    client.prepare(context, 100ms);
    BOOST_TEST(client.discovery->TopicLookup(&context, request, &response).error_code() ==
               StatusCode::DEADLINE_EXCEEDED);
  }
  BOOST_TEST(client.create_producer("/default/t", "p", false).ok());  // other rpcs unaffected
  fixture.broker.set_latency(Rpc::topic_lookup, 0ms);
  BOOST_TEST(client.lookup("/default/t").ok());
}

BOOST_AUTO_TEST_CASE(delayed_call_still_succeeds_within_its_deadline) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.set_latency(Rpc::create_producer, 30ms);
  danube::ProducerResponse response;
  BOOST_TEST(client.create_producer("/default/slow", "p", true, &response).ok());
  BOOST_TEST(response.producer_id() != 0U);
}

BOOST_AUTO_TEST_CASE(latency_on_receive_messages_delays_the_stream_start) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto producer = client.producer("/default/t", "p", true);
  const auto consumer = client.consumer("/default/t", "c", "s", SubType::shared);
  fixture.broker.set_latency(Rpc::receive_messages, 50ms);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, "/default/t", "s", 1));
  client.send_ok(producer, "/default/t", "late-start");
  BOOST_TEST(reader.take(1).front().payload() == "late-start");
}

BOOST_AUTO_TEST_CASE(stop_ends_calls_waiting_out_injected_latency) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  fixture.broker.set_latency(Rpc::health_check, std::chrono::minutes(10));
  std::optional<grpc::Status> status;
  std::thread caller([&] {
    danube::HealthCheckResponse response;
    status = client.health(0, 1, &response);
  });
  // The call is parked inside the broker; stop() must end it instead of waiting ten minutes.
  BOOST_REQUIRE(
      fixture.broker.wait_until([&] { return fixture.broker.delayed_calls() == 1; }, kWait));
  fixture.broker.stop();
  caller.join();
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST(status->error_code() == StatusCode::UNAVAILABLE);
  BOOST_TEST(status->error_message() == "broker is shutting down");
  BOOST_TEST(fixture.broker.delayed_calls() == 0U);
}

BOOST_AUTO_TEST_CASE(cut_streams_ends_streams_with_unavailable_and_redelivers_in_flight) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto producer = client.producer("/default/t", "p", true);
  const auto consumer = client.consumer("/default/t", "c", "s", SubType::exclusive);
  StreamReader first(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, "/default/t", "s", 1));
  client.send_ok(producer, "/default/t", "in-flight");
  const auto held = first.take(1).front();

  fixture.broker.cut_streams();
  const auto status = first.wait_finished();
  BOOST_REQUIRE(status.has_value());
  BOOST_TEST(status->error_code() == StatusCode::UNAVAILABLE);
  BOOST_REQUIRE(wait_connected(fixture.broker, "/default/t", "s", 0));

  StreamReader reopened(client, consumer);  // what a client does after a cut
  const auto again = reopened.take(1).front();
  BOOST_TEST(again.msg_id().topic_offset() == held.msg_id().topic_offset());
  BOOST_TEST(fixture.broker.counters("/default/t")->redelivered == 1U);
}

BOOST_AUTO_TEST_CASE(restart_serves_again_on_the_same_port_and_channel) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  BOOST_TEST(client.create_producer("/default/t", "p", false).ok());
  const auto port = fixture.broker.port();
  const auto url = fixture.broker.service_url();
  fixture.broker.stop();
  BOOST_TEST(!fixture.broker.running());
  BOOST_TEST(client.lookup("/default/t").error_code() == StatusCode::UNAVAILABLE);
  fixture.broker.start();
  BOOST_TEST(fixture.broker.port() == port);
  BOOST_TEST(fixture.broker.service_url() == url);
  // The same channel reconnects; wait_for_ready rides over the reconnect backoff.
  danube::TopicLookupRequest request;
  request.set_topic("/default/t");
  danube::TopicLookupResponse response;
  grpc::ClientContext context;
  client.prepare(context, kWait);
  context.set_wait_for_ready(true);
  BOOST_TEST(client.discovery->TopicLookup(&context, request, &response).ok());
}

BOOST_AUTO_TEST_CASE(stop_and_start_are_idempotent_and_port_conflicts_are_reported) {
  RunningBroker fixture;
  fixture.broker.start();  // already running: no-op
  BOOST_TEST(fixture.broker.running());
  auto options = fast_options();
  options.listen_address = fixture.broker.address();
  EmbeddedBroker clash(options);
  try {
    clash.start();
    BOOST_FAIL("a second broker bound a port that is in use");
  } catch (const std::runtime_error& error) {
    BOOST_TEST(std::string(error.what()).find(fixture.broker.address()) != std::string::npos);
  }
  fixture.broker.stop();
  fixture.broker.stop();
  BOOST_TEST(!fixture.broker.running());
}

BOOST_AUTO_TEST_CASE(bad_listen_address_is_reported_by_start) {
  auto options = fast_options();
  options.listen_address = "127.0.0.1:notaport";
  EmbeddedBroker broker(options);
  BOOST_CHECK_THROW(broker.start(), std::runtime_error);
  BOOST_TEST(!broker.running());
}

}  // namespace
}  // namespace danube::testkit::test
