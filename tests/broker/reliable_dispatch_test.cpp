// Reliable (at-least-once) dispatch: window, acks, nacks, ack timeouts, poison policies,
// consumer failure and stream takeover.

#include <boost/test/unit_test.hpp>
#include <set>

#include "broker_test_support.hpp"

namespace danube::testkit::test {
namespace {

using grpc::StatusCode;

std::vector<std::uint64_t> offsets_of(const std::vector<danube::StreamMessage>& messages) {
  std::vector<std::uint64_t> offsets;
  for (const auto& message : messages)
    offsets.push_back(message.msg_id().topic_offset());
  return offsets;
}

BOOST_AUTO_TEST_CASE(ten_thousand_messages_round_trip_without_loss) {
  constexpr std::size_t kCount = 10000;
  RunningBroker fixture;
  Client producer_client(fixture.broker.address());
  Client consumer_client(fixture.broker.address());
  const std::string topic = "/default/bulk";
  const auto producer = producer_client.producer(topic, "bulk-producer", true);
  const auto consumer =
      consumer_client.consumer(topic, "bulk-consumer", "bulk", SubType::exclusive);
  StreamReader reader(consumer_client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "bulk", 1));

  const auto started = std::chrono::steady_clock::now();
  // Boost.Test assertions are not thread-safe: the publisher only records its first failure.
  grpc::Status publish_failure;
  std::thread publisher([&] {
    for (std::size_t i = 0; i < kCount && publish_failure.ok(); ++i) {
      publish_failure = producer_client.send(
          producer_client.message(producer, topic, "message-" + std::to_string(i), i + 1));
    }
  });
  std::set<std::uint64_t> offsets;
  std::set<std::string> payloads;
  for (std::size_t i = 0; i < kCount; ++i) {
    const auto message = reader.next();
    if (!message) break;
    offsets.insert(message->msg_id().topic_offset());
    payloads.insert(message->payload());
    BOOST_REQUIRE(consumer_client.ack(*message, "bulk").ok());
  }
  publisher.join();
  BOOST_REQUIRE_MESSAGE(publish_failure.ok(),
                        "SendMessage failed: " << publish_failure.error_message());
  const auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  BOOST_TEST_MESSAGE("10000 reliable messages published, delivered and acked in " << elapsed.count()
                                                                                  << " ms");

  BOOST_TEST(offsets.size() == kCount);
  BOOST_TEST(payloads.size() == kCount);
  BOOST_TEST(*offsets.begin() == 0U);
  BOOST_TEST(*offsets.rbegin() == kCount - 1);
  BOOST_REQUIRE(fixture.broker.wait_for_counters(
      topic, [&](const TopicCounters& c) { return c.acked == kCount && c.delivered == kCount; },
      kWait));
  const auto counters = *fixture.broker.counters(topic);
  BOOST_TEST(counters.published == kCount);
  BOOST_TEST(counters.delivered == kCount);
  BOOST_TEST(counters.redelivered == 0U);
  BOOST_TEST(fixture.broker.subscription(topic, "bulk")->cursor == kCount);
}

BOOST_AUTO_TEST_CASE(delivered_message_keeps_producer_fields_and_gets_offset) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/fields";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::shared);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));

  auto sent = client.message(producer, topic, "payload-bytes\x01\x02", 99);
  sent.set_producer_name("the-producer");
  sent.set_publish_time(1234567);
  (*sent.mutable_attributes())["k1"] = "v1";
  (*sent.mutable_attributes())["k2"] = "v2";
  sent.set_schema_id(7);
  sent.set_schema_version(3);
  sent.set_routing_key("key-a");
  BOOST_REQUIRE(client.send(sent).ok());

  const auto got = reader.take(1).front();
  BOOST_TEST(got.request_id() == 99U);
  BOOST_TEST(got.payload() == sent.payload());
  BOOST_TEST(got.producer_name() == "the-producer");
  BOOST_TEST(got.publish_time() == 1234567U);
  BOOST_TEST(got.attributes().at("k1") == "v1");
  BOOST_TEST(got.attributes().at("k2") == "v2");
  BOOST_TEST(got.schema_id() == 7U);
  BOOST_TEST(got.schema_version() == 3U);
  BOOST_TEST(got.routing_key() == "key-a");
  BOOST_TEST(got.subscription_name().empty());
  BOOST_REQUIRE(got.has_msg_id());
  BOOST_TEST(got.msg_id().producer_id() == producer);
  BOOST_TEST(got.msg_id().topic_name() == topic);
  BOOST_TEST(got.msg_id().topic_offset() == 0U);
}

BOOST_AUTO_TEST_CASE(new_subscription_starts_at_latest_offset) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/latest";
  const auto producer = client.producer(topic, "p", true);
  for (int i = 0; i < 3; ++i)
    client.send_ok(producer, topic, "before-" + std::to_string(i));
  const auto consumer = client.consumer(topic, "c", "late", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "late", 1));
  client.send_ok(producer, topic, "after-0");
  client.send_ok(producer, topic, "after-1");
  const auto got = reader.take(2);
  BOOST_TEST(got[0].payload() == "after-0");
  BOOST_TEST(got[1].payload() == "after-1");
  BOOST_TEST(offsets_of(got) == (std::vector<std::uint64_t>{3, 4}),
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(window_caps_unacked_messages_per_subscription) {
  auto options = fast_options();
  options.max_unacked_messages = 4;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/window";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  for (int i = 0; i < 10; ++i)
    client.send_ok(producer, topic, std::to_string(i));

  // Dispatch runs inside SendMessage, so the window is full once the sends returned.
  const auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->in_flight == 4U);
  BOOST_TEST(snapshot->next_offset == 4U);
  auto first = reader.take(4);
  BOOST_TEST(offsets_of(first) == (std::vector<std::uint64_t>{0, 1, 2, 3}),
             boost::test_tools::per_element());
  BOOST_REQUIRE(client.ack(first[0], "s").ok());
  BOOST_TEST(reader.take(1).front().msg_id().topic_offset() == 4U);
  BOOST_TEST(fixture.broker.subscription(topic, "s")->in_flight == 4U);
}

BOOST_AUTO_TEST_CASE(out_of_order_acks_move_cursor_only_over_contiguous_offsets) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/ooo";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  for (int i = 0; i < 5; ++i)
    client.send_ok(producer, topic, std::to_string(i));
  const auto got = reader.take(5);
  const auto cursor = [&] { return fixture.broker.subscription(topic, "s")->cursor; };

  BOOST_REQUIRE(client.ack(got[1], "s").ok());
  BOOST_REQUIRE(client.ack(got[3], "s").ok());
  BOOST_TEST(cursor() == 0U);
  BOOST_REQUIRE(client.ack(got[0], "s").ok());
  BOOST_TEST(cursor() == 2U);
  BOOST_REQUIRE(client.ack(got[2], "s").ok());
  BOOST_TEST(cursor() == 4U);
  BOOST_REQUIRE(client.ack(got[3], "s").ok());  // a duplicate ack changes nothing
  BOOST_TEST(cursor() == 4U);
  BOOST_REQUIRE(client.ack(got[4], "s").ok());
  BOOST_TEST(cursor() == 5U);
  BOOST_TEST(fixture.broker.counters(topic)->acked == 5U);
}

BOOST_AUTO_TEST_CASE(nack_redelivers_the_same_offset_after_backoff) {
  RunningBroker fixture;  // backoff 20 ms
  Client client(fixture.broker.address());
  const std::string topic = "/default/nack";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "retry-me", 5);
  const auto first = reader.take(1).front();
  BOOST_REQUIRE(client.nack(first, "s").ok());
  const auto again = reader.take(1).front();
  BOOST_TEST(again.msg_id().topic_offset() == first.msg_id().topic_offset());
  BOOST_TEST(again.payload() == "retry-me");
  BOOST_TEST(again.request_id() == 5U);
  BOOST_TEST(fixture.broker.counters(topic)->redelivered == 1U);
  BOOST_REQUIRE(client.ack(again, "s").ok());
  BOOST_TEST(fixture.broker.subscription(topic, "s")->cursor == 1U);
}

BOOST_AUTO_TEST_CASE(nack_delay_longer_than_backoff_holds_the_message_back) {
  auto options = fast_options();
  options.redelivery_backoff_max = std::chrono::minutes(10);
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/nack-delay";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "slow");
  const auto slow = reader.take(1).front();
  BOOST_REQUIRE(client.nack(slow, "s", 10 * 60 * 1000).ok());  // ten minutes

  // Other traffic keeps flowing while the nacked message waits; it is not redelivered.
  for (int i = 0; i < 3; ++i) {
    client.send_ok(producer, topic, "fast-" + std::to_string(i));
    const auto fast = reader.take(1).front();
    BOOST_TEST(fast.payload() == "fast-" + std::to_string(i));
    BOOST_REQUIRE(client.ack(fast, "s").ok());
  }
  BOOST_TEST(fixture.broker.counters(topic)->redelivered == 0U);
  BOOST_TEST(fixture.broker.subscription(topic, "s")->cursor == 0U);
  BOOST_TEST(fixture.broker.subscription(topic, "s")->in_flight == 1U);
  // An ack settles it even while it waits.
  BOOST_REQUIRE(client.ack(slow, "s").ok());
  BOOST_TEST(fixture.broker.subscription(topic, "s")->cursor == 4U);
}

BOOST_AUTO_TEST_CASE(ack_timeout_redelivers_unacked_message) {
  auto options = fast_options();
  options.ack_timeout = 50ms;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/timeout";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "forgotten");
  const auto first = reader.take(1).front();
  const auto second = reader.take(1).front();  // nobody acked: it comes again
  BOOST_TEST(second.msg_id().topic_offset() == first.msg_id().topic_offset());
  BOOST_TEST(fixture.broker.counters(topic)->redelivered >= 1U);
  BOOST_REQUIRE(client.ack(second, "s").ok());
  BOOST_TEST(fixture.broker.subscription(topic, "s")->in_flight == 0U);
}

BOOST_AUTO_TEST_CASE(poison_drop_skips_message_after_max_redeliveries) {
  auto options = fast_options();
  options.max_redelivery_count = 2;
  options.poison_policy = PoisonPolicy::drop;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/poison-drop";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "poison");
  for (int delivery = 1; delivery <= 3; ++delivery) {  // first delivery + 2 redeliveries
    const auto message = reader.take(1).front();
    BOOST_TEST(message.payload() == "poison");
    BOOST_REQUIRE(client.nack(message, "s").ok());
  }
  BOOST_REQUIRE(fixture.broker.wait_for_counters(
      topic, [](const TopicCounters& c) { return c.dropped == 1; }, kWait));
  BOOST_TEST(fixture.broker.subscription(topic, "s")->cursor == 1U);
  client.send_ok(producer, topic, "healthy");
  BOOST_TEST(reader.take(1).front().payload() == "healthy");
  BOOST_TEST(fixture.broker.counters(topic)->redelivered == 2U);
}

BOOST_AUTO_TEST_CASE(poison_block_stops_dispatch_past_the_message) {
  auto options = fast_options();
  options.max_redelivery_count = 1;
  options.poison_policy = PoisonPolicy::block;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/poison-block";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "poison");
  BOOST_REQUIRE(client.nack(reader.take(1).front(), "s").ok());
  const auto last = reader.take(1).front();
  BOOST_REQUIRE(client.nack(last, "s").ok());  // out of redeliveries: blocked

  client.send_ok(producer, topic, "stuck-behind");
  const auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->next_offset == 1U);  // offset 1 was not dispatched
  BOOST_TEST(snapshot->cursor == 0U);
  BOOST_TEST(fixture.broker.counters(topic)->dropped == 0U);
  // Acking the blocked message releases the subscription.
  BOOST_REQUIRE(client.ack(last, "s").ok());
  BOOST_TEST(reader.take(1).front().payload() == "stuck-behind");
}

BOOST_AUTO_TEST_CASE(poison_dead_letter_moves_message_to_dlq_topic) {
  auto options = fast_options();
  options.max_redelivery_count = 0;
  options.poison_policy = PoisonPolicy::dead_letter;
  options.dead_letter_topic = "/default/dlq";
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/poison-dlq";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  const auto dlq_consumer = client.consumer("/default/dlq", "dlq-c", "dlq-s", SubType::exclusive);
  StreamReader reader(client, consumer);
  StreamReader dlq_reader(client, dlq_consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  BOOST_REQUIRE(wait_connected(fixture.broker, "/default/dlq", "dlq-s", 1));

  auto sent = client.message(producer, topic, "bad-record");
  (*sent.mutable_attributes())["origin"] = "test";
  BOOST_REQUIRE(client.send(sent).ok());
  BOOST_REQUIRE(client.nack(reader.take(1).front(), "s").ok());
  const auto dead = dlq_reader.take(1).front();
  BOOST_TEST(dead.payload() == "bad-record");
  BOOST_TEST(dead.msg_id().topic_name() == "/default/dlq");
  BOOST_TEST(dead.attributes().at("origin") == "test");
  BOOST_TEST(dead.attributes().at("x-original-topic") == topic);
  BOOST_TEST(dead.attributes().at("x-original-subscription") == "s");
  BOOST_TEST(dead.attributes().at("x-original-topic-offset") == "0");
  BOOST_TEST(dead.attributes().at("x-poison-policy") == "dead_letter");
  BOOST_TEST(dead.attributes().at("x-delivery-attempt") == "1");
  BOOST_TEST(fixture.broker.counters(topic)->dead_lettered == 1U);
  BOOST_TEST(fixture.broker.subscription(topic, "s")->cursor == 1U);
}

BOOST_AUTO_TEST_CASE(backlog_limit_answers_resource_exhausted_until_consumers_catch_up) {
  auto options = fast_options();
  options.max_topic_backlog_bytes = 4096;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/backlog";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);  // no stream yet
  const std::string payload(1000, 'b');
  int accepted = 0;
  grpc::Status refused;
  for (int i = 0; i < 10 && refused.ok(); ++i) {
    refused = client.send(client.message(producer, topic, payload));
    if (refused.ok()) ++accepted;
  }
  BOOST_TEST(refused.error_code() == StatusCode::RESOURCE_EXHAUSTED);  // retryable for clients
  BOOST_TEST(accepted >= 3);

  StreamReader reader(client, consumer);
  for (const auto& message : reader.take(static_cast<std::size_t>(std::min(accepted, 10)))) {
    BOOST_REQUIRE(client.ack(message, "s").ok());
  }
  BOOST_TEST(client.send(client.message(producer, topic, payload)).ok());
}

BOOST_AUTO_TEST_CASE(disconnected_consumer_messages_go_to_the_next_consumer) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/failover-shared";
  const auto producer = client.producer(topic, "p", true);
  const auto a = client.consumer(topic, "a", "s", SubType::shared);
  const auto b = client.consumer(topic, "b", "s", SubType::shared);
  auto reader_a = std::make_unique<StreamReader>(client, a);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  for (int i = 0; i < 3; ++i)
    client.send_ok(producer, topic, std::to_string(i));
  const auto unacked = reader_a->take(3);  // a holds them without acking

  StreamReader reader_b(client, b);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 2));
  reader_a.reset();  // a goes away
  const auto redelivered = reader_b.take(3);
  BOOST_TEST(offsets_of(redelivered) == offsets_of(unacked), boost::test_tools::per_element());
  BOOST_TEST(fixture.broker.counters(topic)->redelivered == 3U);
  for (const auto& message : redelivered)
    BOOST_REQUIRE(client.ack(message, "s").ok());
  BOOST_TEST(fixture.broker.subscription(topic, "s")->cursor == 3U);
}

BOOST_AUTO_TEST_CASE(new_stream_for_same_consumer_replaces_old_and_gets_in_flight_again) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/takeover";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader old_stream(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "in-flight");
  const auto first = old_stream.take(1).front();

  StreamReader new_stream(client, consumer);
  const auto ended = old_stream.wait_finished();
  BOOST_REQUIRE(ended.has_value());
  BOOST_TEST(ended->error_code() == StatusCode::CANCELLED);
  const auto again = new_stream.take(1).front();
  BOOST_TEST(again.msg_id().topic_offset() == first.msg_id().topic_offset());
  client.send_ok(producer, topic, "next");
  BOOST_TEST(new_stream.take(1).front().payload() == "next");
  BOOST_TEST(fixture.broker.subscription(topic, "s")->consumers == 1U);
}

BOOST_AUTO_TEST_CASE(subscribe_takeover_ends_old_stream_and_redelivers) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/resubscribe";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader old_stream(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "held");
  const auto held = old_stream.take(1).front();

  BOOST_TEST(client.consumer(topic, "c", "s", SubType::exclusive) == consumer);
  BOOST_REQUIRE(old_stream.wait_finished().has_value());
  StreamReader new_stream(client, consumer);
  const auto again = new_stream.take(1).front();
  BOOST_TEST(again.msg_id().topic_offset() == held.msg_id().topic_offset());
  BOOST_TEST(fixture.broker.counters(topic)->redelivered == 1U);
}

}  // namespace
}  // namespace danube::testkit::test
