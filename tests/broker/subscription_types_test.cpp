// The delivery rule of each subscription type, on reliable and non-reliable topics.

#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "broker_test_support.hpp"

namespace danube::testkit::test {
namespace {

void publish(Client& client, std::uint64_t producer, const std::string& topic, int count,
             const std::string& prefix = "m") {
  for (int i = 0; i < count; ++i)
    client.send_ok(producer, topic, prefix + std::to_string(i));
}

BOOST_AUTO_TEST_CASE(exclusive_delivers_everything_to_its_one_consumer) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/exclusive";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "only", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  publish(client, producer, topic, 20);
  for (int i = 0; i < 20; ++i) {
    const auto message = reader.take(1).front();
    BOOST_TEST(message.payload() == "m" + std::to_string(i));  // in order
    BOOST_REQUIRE(client.ack(message, "s").ok());
  }
}

BOOST_AUTO_TEST_CASE(shared_round_robins_over_connected_consumers) {
  auto options = fast_options();
  options.max_unacked_messages = 100;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/shared";
  const auto producer = client.producer(topic, "p", true);
  const auto a = client.consumer(topic, "a", "s", SubType::shared);
  const auto b = client.consumer(topic, "b", "s", SubType::shared);
  StreamReader reader_a(client, a);
  StreamReader reader_b(client, b);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 2));
  publish(client, producer, topic, 10);
  const auto got_a = reader_a.take(5);
  const auto got_b = reader_b.take(5);
  // Alternating offsets: one consumer has the even ones, the other the odd ones.
  std::set<std::uint64_t> parities;
  for (const auto* got : {&got_a, &got_b}) {
    std::set<std::uint64_t> parity;
    for (const auto& message : *got)
      parity.insert(message.msg_id().topic_offset() % 2);
    BOOST_TEST(parity.size() == 1U);
    parities.insert(*parity.begin());
  }
  BOOST_TEST(parities.size() == 2U);
}

BOOST_AUTO_TEST_CASE(shared_non_reliable_round_robins_too) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/shared-nr";
  const auto producer = client.producer(topic, "p", false);
  const auto a = client.consumer(topic, "a", "s", SubType::shared);
  const auto b = client.consumer(topic, "b", "s", SubType::shared);
  StreamReader reader_a(client, a);
  StreamReader reader_b(client, b);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 2));
  // Two at a time so that neither 4-message queue can overflow.
  for (int round = 0; round < 3; ++round) {
    publish(client, producer, topic, 2, "r" + std::to_string(round) + "-");
    BOOST_REQUIRE(reader_a.wait_for_total(round + 1));
    BOOST_REQUIRE(reader_b.wait_for_total(round + 1));
  }
  BOOST_TEST(reader_a.total() == 3U);
  BOOST_TEST(reader_b.total() == 3U);
  for (const auto& message : reader_a.all())
    BOOST_TEST(message.msg_id().topic_offset() == 0U);
}

BOOST_AUTO_TEST_CASE(failover_uses_one_active_consumer_and_fails_over_with_in_flight) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/failover";
  const auto producer = client.producer(topic, "p", true);
  const auto primary = client.consumer(topic, "primary", "s", SubType::failover);
  const auto standby = client.consumer(topic, "standby", "s", SubType::failover);
  auto primary_reader = std::make_unique<StreamReader>(client, primary);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  StreamReader standby_reader(client, standby);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 2));

  publish(client, producer, topic, 4);
  const auto held = primary_reader->take(4);
  BOOST_REQUIRE(client.ack(held[0], "s").ok());
  BOOST_TEST(standby_reader.total() == 0U);

  primary_reader.reset();  // the active consumer goes away with offsets 1..3 unacked
  const auto taken_over = standby_reader.take(3);
  BOOST_TEST(taken_over[0].msg_id().topic_offset() == 1U);
  BOOST_TEST(taken_over[2].msg_id().topic_offset() == 3U);
  publish(client, producer, topic, 1, "after-");
  BOOST_TEST(standby_reader.take(1).front().payload() == "after-0");
}

BOOST_AUTO_TEST_CASE(exclusive_non_reliable_goes_to_first_connected_consumer) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/exclusive-nr";
  const auto producer = client.producer(topic, "p", false);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "hello", 3);
  const auto message = reader.take(1).front();
  BOOST_TEST(message.payload() == "hello");
  BOOST_TEST(message.request_id() == 3U);
  BOOST_TEST(message.msg_id().topic_offset() == 0U);  // non-reliable: no offset
  BOOST_TEST(client.ack(message, "s").ok());          // accepted and ignored
  BOOST_TEST(fixture.broker.counters(topic)->acked == 0U);
}

BOOST_AUTO_TEST_CASE(key_shared_keeps_each_key_on_one_consumer_in_order) {
  auto options = fast_options();
  options.max_unacked_messages = 1000;
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/keyed";
  const auto producer = client.producer(topic, "p", true);
  std::vector<std::unique_ptr<StreamReader>> readers;
  for (const std::string name : {"k1", "k2", "k3"}) {
    readers.push_back(std::make_unique<StreamReader>(
        client, client.consumer(topic, name, "s", SubType::key_shared)));
  }
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 3));
  constexpr int kKeys = 12, kPerKey = 10;
  for (int i = 0; i < kPerKey; ++i) {
    for (int key = 0; key < kKeys; ++key) {
      auto message = client.message(producer, topic, std::to_string(i));
      message.set_routing_key("key-" + std::to_string(key));
      BOOST_REQUIRE(client.send(message).ok());
    }
  }
  BOOST_REQUIRE(fixture.broker.wait_until(
      [&] {
        std::size_t total = 0;
        for (const auto& reader : readers)
          total += reader->total();
        return total == kKeys * kPerKey;
      },
      kWait));
  std::map<std::string, std::size_t> owner;
  std::set<std::size_t> used;
  for (std::size_t r = 0; r < readers.size(); ++r) {
    std::map<std::string, int> next_sequence;
    for (const auto& message : readers[r]->all()) {
      const auto [it, inserted] = owner.emplace(message.routing_key(), r);
      BOOST_TEST(it->second == r, "key " << message.routing_key() << " seen on two consumers");
      BOOST_TEST(message.payload() == std::to_string(next_sequence[message.routing_key()]++));
      used.insert(r);
    }
  }
  BOOST_TEST(owner.size() == static_cast<std::size_t>(kKeys));
  BOOST_TEST(used.size() > 1U);  // 12 keys over 3 consumers do not all hash to one
}

BOOST_AUTO_TEST_CASE(key_shared_falls_back_to_producer_name_and_honours_filters) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/filtered";
  const auto producer = client.producer(topic, "p", false);
  StreamReader eu(client, client.consumer(topic, "eu", "s", SubType::key_shared, {"eu-*"}));
  StreamReader us(client, client.consumer(topic, "us", "s", SubType::key_shared, {"us-?"}));
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 2));
  for (const std::string key : {"eu-paris", "us-1", "eu-rome"}) {
    auto message = client.message(producer, topic, key);
    message.set_routing_key(key);
    BOOST_REQUIRE(client.send(message).ok());
  }
  auto unkeyed = client.message(producer, topic, "by-producer-name");
  unkeyed.set_producer_name("eu-producer");  // no routing key: the producer name is the key
  BOOST_REQUIRE(client.send(unkeyed).ok());
  auto unmatched = client.message(producer, topic, "nobody");
  unmatched.set_routing_key("us-12");  // '?' is one character: no consumer matches
  BOOST_REQUIRE(client.send(unmatched).ok());

  const auto got_eu = eu.take(3);
  BOOST_TEST(got_eu[0].payload() == "eu-paris");
  BOOST_TEST(got_eu[1].payload() == "eu-rome");
  BOOST_TEST(got_eu[2].payload() == "by-producer-name");
  BOOST_TEST(us.take(1).front().payload() == "us-1");
  BOOST_REQUIRE(fixture.broker.wait_for_counters(
      topic, [](const TopicCounters& c) { return c.dropped == 1 && c.delivered == 4; }, kWait));
}

BOOST_AUTO_TEST_CASE(non_reliable_messages_are_dropped_when_nobody_listens) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/fire-and-forget";
  const auto producer = client.producer(topic, "p", false);
  publish(client, producer, topic, 3, "no-subscription-");
  BOOST_TEST(fixture.broker.counters(topic)->dropped == 3U);

  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  publish(client, producer, topic, 2, "no-stream-");  // subscribed, but no open stream
  BOOST_TEST(fixture.broker.counters(topic)->dropped == 5U);

  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  client.send_ok(producer, topic, "heard");
  BOOST_TEST(reader.take(1).front().payload() == "heard");
  BOOST_TEST(fixture.broker.counters(topic)->published == 6U);
  BOOST_TEST(fixture.broker.counters(topic)->dropped == 5U);
}

BOOST_AUTO_TEST_CASE(non_reliable_queue_overflow_drops_instead_of_buffering) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/overflow";
  const auto producer = client.producer(topic, "p", false);
  const auto consumer = client.consumer(topic, "slow", "s", SubType::exclusive);

  // A raw stream that is opened but never read: HTTP/2 flow control stops the broker's writes,
  // its 4-message queue fills and the rest must be dropped, not buffered. The stream has its own
  // connection, without BDP probing so that its window stays at HTTP/2's initial 64 KiB.
  grpc::ChannelArguments arguments;
  arguments.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  const auto channel = grpc::CreateCustomChannel(fixture.broker.address(),
                                                 grpc::InsecureChannelCredentials(), arguments);
  const auto slow_reader = danube::ConsumerService::NewStub(channel);
  grpc::ClientContext context;
  danube::ReceiveRequest request;
  request.set_consumer_id(consumer);
  auto stream = slow_reader->ReceiveMessages(&context, request);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  constexpr int kMessages = 100;
  const std::string payload(64 * 1024, 'x');  // 6.4 MB in total, 100 times the window
  for (int i = 0; i < kMessages; ++i) {
    const auto status = client.send(client.message(producer, topic, payload));
    BOOST_REQUIRE_MESSAGE(status.ok(), "send " << i << " failed: " << status.error_code() << " "
                                               << status.error_message());
  }
  const auto counters = *fixture.broker.counters(topic);
  BOOST_TEST(counters.published == static_cast<std::uint64_t>(kMessages));
  BOOST_TEST(counters.dropped > 0U);
  BOOST_TEST(counters.delivered + counters.dropped <= static_cast<std::uint64_t>(kMessages));
  context.TryCancel();
}

}  // namespace
}  // namespace danube::testkit::test
