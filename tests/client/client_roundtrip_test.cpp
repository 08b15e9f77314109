// The client against a broker: round trips on both dispatch strategies, partitions and key
// routing, strict ordering under pipelining, nacks, fault injection, schemas.
//
// ctest runs these cases twice: client_roundtrip_test against an in-process embedded broker,
// and client_roundtrip_real_broker_test (label real_broker) against the broker
// DANUBE_BROKER_URL names, such as a real Danube 0.15.1 (skipped without it). Cases marked
// embedded_broker_only need the embedded broker's fault injection, options or counters and
// report skipped there; the others check the embedded broker's counters only when it runs.
// Every case keeps a reliable subscription's backlog below what Danube 0.15.1's dispatcher
// holds (its window of 10 plus its live tail of 256, docs/delivery.md), so none of them can
// lose messages on the real broker.
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "client_test_support.hpp"
#include "danube/client/partitioning.hpp"

using namespace danube::client;
using namespace danube::client::test;
using namespace std::chrono_literals;
namespace testkit = danube::testkit;

namespace {

ConsumerOptions consumer_options(const std::string& topic, const std::string& subscription,
                                 SubscriptionType type = SubscriptionType::exclusive) {
  ConsumerOptions options;
  options.topic = topic;
  options.consumer_name = subscription + "-consumer";
  options.subscription = subscription;
  options.type = type;
  return options;
}

ProducerOptions producer_options(const std::string& topic, Dispatch dispatch,
                                 std::size_t partitions = 0) {
  ProducerOptions options;
  options.topic = topic;
  options.name = "producer-" + std::to_string(std::hash<std::string>{}(topic) % 1000);
  options.dispatch = dispatch;
  options.partitions = partitions;
  return options;
}

// Sends `count` messages at once (pipelined), then waits for every receipt.
void send_all(Producer& producer, int first, int count,
              const std::function<OutgoingMessage(int)>& make) {
  std::vector<std::future<Result<SendReceipt>>> receipts;
  for (int i = first; i < first + count; ++i)
    receipts.push_back(producer.send(make(i)));
  for (auto& receipt : receipts) {
    auto outcome = receipt.get();
    BOOST_REQUIRE_MESSAGE(outcome.ok(), error_text(outcome));
  }
}

}  // namespace

BOOST_TEST_GLOBAL_FIXTURE(SkipWithoutExternalBroker);

BOOST_AUTO_TEST_CASE(reliable_round_trip_keeps_payload_attributes_key_and_offsets) {
  BrokerAndClient env;
  const std::string topic = env.topic("orders");
  auto producer = env.producer(producer_options(topic, Dispatch::reliable));
  auto consumer = env.consumer(consumer_options(topic, "audit"));

  // In rounds of 100: the consumer drains each before the next, as a live consumer would.
  constexpr int kCount = 500;
  constexpr int kRound = 100;
  std::vector<ReceivedMessage> received;
  for (int first = 0; first < kCount; first += kRound) {
    send_all(*producer, first, kRound, [](int i) {
      OutgoingMessage message =
          text_message("order-" + std::to_string(i), "customer-" + std::to_string(i % 7));
      message.attributes = {{"index", std::to_string(i)}, {"origin", "cpp"}};
      return message;
    });
    for (auto& message : receive_n(*consumer, kRound, Acks::each))
      received.push_back(std::move(message));
    BOOST_REQUIRE_EQUAL(received.size(), static_cast<std::size_t>(first + kRound));
  }
  for (int i = 0; i < kCount; ++i) {
    const ReceivedMessage& message = received[i];
    BOOST_TEST(message.payload == "order-" + std::to_string(i));  // strict order on one topic
    BOOST_TEST(message.attributes.at("index") == std::to_string(i));
    BOOST_TEST(message.attributes.at("origin") == "cpp");
    BOOST_REQUIRE(message.routing_key.has_value());
    BOOST_TEST(*message.routing_key == "customer-" + std::to_string(i % 7));
    BOOST_TEST(message.id.topic_offset == static_cast<std::uint64_t>(i));
    BOOST_TEST(message.id.topic_name == topic);
    BOOST_TEST(message.producer_name == producer->name());
    BOOST_TEST(message.topic == topic);
    BOOST_TEST(message.publish_time > 0u);
  }
  BOOST_TEST(consumer->flush_acks(10s));
  BOOST_TEST(consumer->stats().acked == static_cast<std::uint64_t>(kCount));
  if (env.embedded()) {
    BOOST_TEST(env.broker().wait_for_counters(
        topic, [](const testkit::TopicCounters& c) { return c.acked == kCount; }, 10s));
  }
  BOOST_TEST(producer->stats().sent == static_cast<std::uint64_t>(kCount));
}

// Danube starts a new reliable subscription at the newest message: what was published before
// it existed is not delivered to it.
BOOST_AUTO_TEST_CASE(a_new_reliable_subscription_starts_after_what_was_already_published) {
  BrokerAndClient env;
  const std::string topic = env.topic("latecomer");
  auto producer = env.producer(producer_options(topic, Dispatch::reliable));
  send_all(*producer, 0, 5, [](int i) { return text_message("early-" + std::to_string(i)); });
  auto consumer = env.consumer(consumer_options(topic, "late"));
  send_all(*producer, 5, 5, [](int i) { return text_message("late-" + std::to_string(i)); });
  // Dispatch is in offset order, so an early message would arrive before these.
  const auto received = receive_n(*consumer, 5, Acks::each);
  BOOST_REQUIRE_EQUAL(received.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    BOOST_TEST(received[i].payload == "late-" + std::to_string(i + 5));
    BOOST_TEST(received[i].id.topic_offset == static_cast<std::uint64_t>(i + 5));
  }
  BOOST_TEST(consumer->flush_acks(10s));
}

BOOST_AUTO_TEST_CASE(non_reliable_round_trip_in_lockstep_loses_nothing) {
  BrokerAndClient env;
  const std::string topic = env.topic("ticks");
  auto producer = env.producer(producer_options(topic, Dispatch::non_reliable));
  auto consumer = env.consumer(consumer_options(topic, "live"));
  // A non-reliable topic delivers only to consumers whose stream is open at publish time.
  if (env.embedded()) {
    BOOST_REQUIRE(env.broker().wait_until(
        [&] {
          auto sub = env.broker().subscription(topic, "live");
          return sub && sub->connected_consumers == 1;
        },
        10s));
  } else {
    // No view into an external broker: publish probes until one arrives.
    bool attached = false;
    for (int probe = 0; probe < 100 && !attached; ++probe) {
      BOOST_REQUIRE(producer->send(text_message("probe")).get().ok());
      attached = !receive_n(*consumer, 1, Acks::none, 200ms).empty();
    }
    BOOST_REQUIRE_MESSAGE(attached, "no probe reached the consumer");
  }
  // One message at a time: the broker's per-consumer queue of 4 never overflows.
  for (int i = 0; i < 50; ++i) {
    auto outcome = producer->send(text_message("tick-" + std::to_string(i))).get();
    BOOST_REQUIRE_MESSAGE(outcome.ok(), error_text(outcome));
    std::vector<ReceivedMessage> received;
    do {  // a probe the broker had queued before the stream opened may still come
      received = receive_n(*consumer, 1, Acks::none, 10s);
    } while (received.size() == 1 && received[0].payload == "probe");
    BOOST_REQUIRE_EQUAL(received.size(), 1u);
    BOOST_TEST(received[0].payload == "tick-" + std::to_string(i));
    BOOST_TEST(received[0].id.topic_offset == 0u);  // non-reliable topics carry no offsets
  }
}

BOOST_AUTO_TEST_CASE(keys_pick_partitions_by_fnv1a_and_unkeyed_messages_round_robin) {
  BrokerAndClient env;
  const std::string topic = env.topic("sensors");
  auto producer = env.producer(producer_options(topic, Dispatch::reliable, 3));
  BOOST_TEST(producer->partitions() == 3u);
  auto consumer = env.consumer(consumer_options(topic, "all", SubscriptionType::shared));
  BOOST_TEST(consumer->partitions().size() == 3u);

  const std::vector<std::string> keys = {"alpha", "beta", "gamma", "delta", "epsilon", "zeta"};
  std::vector<std::future<Result<SendReceipt>>> receipts;
  for (int round = 0; round < 10; ++round) {
    for (const auto& key : keys)
      receipts.push_back(producer->send(text_message(key, key)));
  }
  for (int i = 0; i < 30; ++i)
    receipts.push_back(producer->send(text_message("unkeyed")));
  std::map<std::string, int> receipt_partitions;
  for (auto& future : receipts) {
    auto outcome = future.get();
    BOOST_REQUIRE_MESSAGE(outcome.ok(), error_text(outcome));
    receipt_partitions[outcome.value().topic_name]++;
  }

  auto received = receive_n(*consumer, receipts.size(), Acks::each);
  BOOST_REQUIRE_EQUAL(received.size(), receipts.size());
  std::map<std::string, std::set<std::string>> partitions_of_key;
  std::map<std::string, int> unkeyed_per_partition;
  for (const auto& message : received) {
    if (message.routing_key) {
      partitions_of_key[*message.routing_key].insert(message.id.topic_name);
      const auto expected = partition_for_key(*message.routing_key, 3);
      BOOST_TEST(message.id.topic_name == topic + "-part-" + std::to_string(expected));
    } else {
      unkeyed_per_partition[message.id.topic_name]++;
    }
    BOOST_TEST(message.topic == topic);
  }
  for (const auto& [key, partitions] : partitions_of_key) {
    BOOST_TEST_CONTEXT("key " << key) {
      BOOST_TEST(partitions.size() == 1u);
    }
  }
  BOOST_TEST(unkeyed_per_partition.size() == 3u);
  for (const auto& [topic, count] : unkeyed_per_partition) {
    BOOST_TEST_CONTEXT(topic) {
      BOOST_TEST(count == 10);
    }  // 30 round-robin over 3
  }
  BOOST_TEST(consumer->flush_acks(10s));
}

BOOST_AUTO_TEST_CASE(strict_ordering_keeps_per_partition_order_under_pipelining_and_latency,
                     *boost::unit_test::precondition(embedded_broker_only)) {
  testkit::BrokerOptions broker_options;
  broker_options.max_unacked_messages = 1000;
  BrokerAndClient env(broker_options);
  auto options = producer_options("/default/ledger", Dispatch::reliable, 4);
  options.ordering = Ordering::strict;
  options.max_in_flight = 64;
  auto producer = env.producer(options);
  auto consumer = env.consumer(consumer_options("/default/ledger", "ordered"));
  // Uneven server-side latency would reorder concurrent calls of one partition.
  env.broker().set_latency(testkit::Rpc::send_message, 1ms);

  constexpr int kCount = 2000;
  std::atomic<int> failures{0};
  for (int i = 0; i < kCount; ++i) {
    producer->send_async(text_message(std::to_string(i), "k" + std::to_string(i % 16)),
                         [&](Result<SendReceipt> outcome) {
                           if (!outcome.ok()) ++failures;
                         });
  }
  BOOST_REQUIRE(producer->flush(60s));
  BOOST_TEST(failures.load() == 0);
  env.broker().set_latency(testkit::Rpc::send_message, 0ms);

  auto received = receive_n(*consumer, kCount, Acks::each);
  BOOST_REQUIRE_EQUAL(received.size(), static_cast<std::size_t>(kCount));
  // Each partition is an ordered log, so its payloads must appear in the order they were sent.
  std::map<std::string, int> last_per_partition;
  for (const auto& message : received) {
    const int value = std::stoi(message.payload);
    auto [last, first_seen] = last_per_partition.try_emplace(message.id.topic_name, value);
    if (!first_seen) {
      BOOST_TEST_CONTEXT(message.id.topic_name) {
        BOOST_TEST(value > last->second);
      }
      last->second = value;
    }
  }
  BOOST_TEST(last_per_partition.size() == 4u);
  BOOST_TEST(consumer->flush_acks(10s));
}

BOOST_AUTO_TEST_CASE(nacked_messages_are_redelivered_with_the_same_offset) {
  testkit::BrokerOptions broker_options;
  broker_options.redelivery_backoff_initial = 10ms;
  broker_options.redelivery_backoff_max = 50ms;
  BrokerAndClient env(broker_options);
  const std::string topic = env.topic("jobs");
  auto producer = env.producer(producer_options(topic, Dispatch::reliable));
  auto consumer = env.consumer(consumer_options(topic, "workers"));
  BOOST_REQUIRE(producer->send(text_message("job-1")).get().ok());

  auto first = receive_n(*consumer, 1);
  BOOST_REQUIRE_EQUAL(first.size(), 1u);
  std::promise<Status> nacked;
  consumer->nack_async(first[0].request_id, first[0].id, 20ms, "transient failure",
                       [&](Status status) { nacked.set_value(status); });
  BOOST_TEST(nacked.get_future().get().ok());

  auto again = receive_n(*consumer, 1);
  BOOST_REQUIRE_EQUAL(again.size(), 1u);
  BOOST_TEST(again[0].payload == "job-1");
  BOOST_TEST(again[0].id.topic_offset == first[0].id.topic_offset);
  BOOST_TEST(consumer->ack(again[0]).get().ok());
  BOOST_TEST(consumer->stats().nacked == 1u);
  if (env.embedded()) BOOST_TEST(env.broker().counters(topic)->redelivered >= 1u);
}

BOOST_AUTO_TEST_CASE(retryable_faults_are_retried_and_others_surface_with_their_category,
                     *boost::unit_test::precondition(embedded_broker_only)) {
  BrokerAndClient env;
  auto producer = env.producer(producer_options("/default/faults", Dispatch::reliable));

  env.broker().fail_next(testkit::Rpc::send_message, 3, 14 /* UNAVAILABLE */, "broker busy");
  auto retried = producer->send(text_message("survives")).get();
  BOOST_TEST_REQUIRE(retried.ok());
  BOOST_TEST(producer->stats().retried == 3u);

  env.broker().fail_next(testkit::Rpc::send_message, 1, 7 /* PERMISSION_DENIED */, "denied");
  auto denied = producer->send(text_message("rejected")).get();
  BOOST_REQUIRE(!denied.ok());
  BOOST_TEST((denied.error().category() == ErrorCategory::permission));
  BOOST_TEST(denied.error().grpc_code() == 7);
  BOOST_TEST(denied.error().message().find("denied") != std::string::npos);

  env.broker().fail_next(testkit::Rpc::create_producer, 2, 8 /* RESOURCE_EXHAUSTED */);
  auto options = producer_options("/default/faults", Dispatch::reliable);
  options.name = "second";
  auto second = env.client->create_producer(options);
  BOOST_TEST(second.ok());

  env.broker().fail_next(testkit::Rpc::subscribe, 1, 3 /* INVALID_ARGUMENT */, "bad request");
  auto consumer = env.client->subscribe(consumer_options("/default/faults", "s"));
  BOOST_REQUIRE(!consumer.ok());
  BOOST_TEST((consumer.error().category() == ErrorCategory::invalid_argument));
}

BOOST_AUTO_TEST_CASE(broker_errors_have_clear_categories) {
  BrokerAndClient env;
  auto missing = env.client->subscribe(consumer_options(env.topic("never-created"), "s"));
  BOOST_REQUIRE(!missing.ok());
  BOOST_TEST((missing.error().category() == ErrorCategory::not_found));

  auto bad_name =
      env.client->create_producer(producer_options("default/no-slash", Dispatch::reliable));
  BOOST_REQUIRE(!bad_name.ok());
  BOOST_TEST((bad_name.error().category() == ErrorCategory::invalid_argument));

  const std::string mixed = env.topic("mixed");
  auto reliable = env.producer(producer_options(mixed, Dispatch::reliable));
  auto options = producer_options(mixed, Dispatch::non_reliable);
  options.name = "other";
  auto mismatch = env.client->create_producer(options);
  BOOST_REQUIRE(!mismatch.ok());
  BOOST_TEST((mismatch.error().category() == ErrorCategory::precondition));

  auto exclusive = env.consumer(consumer_options(mixed, "solo"));
  auto intruder_options = consumer_options(mixed, "solo");
  intruder_options.consumer_name = "intruder";
  auto intruder = env.client->subscribe(intruder_options);
  BOOST_REQUIRE(!intruder.ok());
  BOOST_TEST((intruder.error().category() == ErrorCategory::permission));
}

BOOST_AUTO_TEST_CASE(schema_registry_round_trip_and_schema_stamped_messages) {
  BrokerAndClient env;
  auto registry = env.client->schema_registry();
  const std::string subject = env.name("orders-value");
  const std::string v1 =
      R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})";
  auto registered =
      registry.register_schema({subject, "json_schema", v1, "orders", "tests", {"t"}});
  BOOST_REQUIRE_MESSAGE(registered.ok(), error_text(registered));
  BOOST_TEST(registered.value().is_new_version);
  // Danube's fingerprint: the SHA-256 of v1 re-serialized compactly with sorted keys.
  BOOST_TEST(registered.value().fingerprint ==
             "sha256:52ae9b42467ac0a18b5ed957ca40c1a5be794d01551127ff63b2eeebae215c7f");
  auto again = registry.register_schema({subject, "json_schema", v1, "", "", {}});
  BOOST_REQUIRE(again.ok());
  BOOST_TEST(!again.value().is_new_version);
  BOOST_TEST(again.value().version == registered.value().version);

  // Danube answers the definition in an envelope of its own; the client gives it back as
  // registered.
  auto latest = registry.get_latest_schema(subject);
  BOOST_REQUIRE(latest.ok());
  BOOST_TEST(latest.value().definition == v1);
  BOOST_TEST(latest.value().schema_type == "json_schema");
  BOOST_TEST(latest.value().fingerprint == registered.value().fingerprint);
  struct OtherType {
    std::string type, definition, answered_type, answered_definition;
  };
  const std::string avro =
      R"({"type":"record","name":"Order","fields":[{"name":"id","type":"long"}]})";
  const std::string proto = "syntax = \"proto3\";\nmessage Order { int64 id = 1; }\n";
  for (const auto& other :
       {OtherType{"avro", avro, "avro", avro}, OtherType{"proto", proto, "protobuf", proto},
        OtherType{"String", "", "string", ""}}) {
    const std::string other_subject = env.name("orders-" + other.answered_type);
    auto other_registered =
        registry.register_schema({other_subject, other.type, other.definition, "", "", {}});
    BOOST_REQUIRE_MESSAGE(other_registered.ok(), error_text(other_registered));
    auto other_schema = registry.get_schema(other_registered.value().schema_id);
    BOOST_REQUIRE_MESSAGE(other_schema.ok(), error_text(other_schema));
    BOOST_TEST(other_schema.value().schema_type == other.answered_type);
    BOOST_TEST(other_schema.value().definition == other.answered_definition);
  }
  auto by_id = registry.get_schema(latest.value().schema_id);
  BOOST_REQUIRE(by_id.ok());
  BOOST_TEST(by_id.value().subject == subject);
  auto versions = registry.list_versions(subject);
  BOOST_REQUIRE(versions.ok());
  BOOST_TEST(versions.value().size() == 1u);
  auto compatible = registry.check_compatibility(subject, v1, "json_schema");
  BOOST_REQUIRE(compatible.ok());
  BOOST_TEST(compatible.value().compatible);
  auto unknown = registry.get_latest_schema(env.name("nobody"));
  BOOST_REQUIRE(!unknown.ok());
  BOOST_TEST((unknown.error().category() == ErrorCategory::not_found));

  const std::string typed = env.topic("typed");
  auto options = producer_options(typed, Dispatch::reliable);
  options.schema = SchemaReference{subject, VersionStrategy::latest()};
  auto producer = env.producer(options);
  auto consumer = env.consumer(consumer_options(typed, "typed"));
  BOOST_REQUIRE(producer->send(text_message(R"({"id":1})")).get().ok());
  auto received = receive_n(*consumer, 1);
  BOOST_REQUIRE_EQUAL(received.size(), 1u);
  BOOST_REQUIRE(received[0].schema_id.has_value());
  BOOST_TEST(*received[0].schema_id == latest.value().schema_id);
  BOOST_TEST(received[0].schema_version.value_or(0) == latest.value().version);
}

BOOST_AUTO_TEST_CASE(closing_a_producer_fails_what_cannot_be_sent_and_rejects_new_sends,
                     *boost::unit_test::precondition(embedded_broker_only)) {
  BrokerAndClient env;
  auto producer = env.producer(producer_options("/default/closing", Dispatch::reliable));
  env.broker().set_latency(testkit::Rpc::send_message, 200ms);
  std::atomic<int> ok{0}, cancelled{0};
  for (int i = 0; i < 20; ++i) {
    producer->send_async(text_message("m"), [&](Result<SendReceipt> outcome) {
      if (outcome.ok()) {
        ++ok;
      } else if (outcome.error().category() == ErrorCategory::cancelled) {
        ++cancelled;
      }
    });
  }
  producer->close(10ms);
  BOOST_TEST(ok.load() + cancelled.load() == 20);
  BOOST_TEST(cancelled.load() > 0);
  auto after = producer->send(text_message("late")).get();
  BOOST_REQUIRE(!after.ok());
  BOOST_TEST((after.error().category() == ErrorCategory::cancelled));
  env.broker().set_latency(testkit::Rpc::send_message, 0ms);
}

BOOST_AUTO_TEST_CASE(flush_returns_only_after_every_callback_has_run) {
  BrokerAndClient env;
  const std::string topic = env.topic("callbacks");
  auto producer = env.producer(producer_options(topic, Dispatch::reliable));
  auto consumer = env.consumer(consumer_options(topic, "callbacks"));
  // Callbacks that take a while: flush() must wait for them, not just for the broker's replies,
  // or the caller could destroy what they use.
  auto slow_work = [] {
    const auto until = std::chrono::steady_clock::now() + 300us;
    while (std::chrono::steady_clock::now() < until) {
    }
  };
  std::atomic<int> sent{0};
  for (int i = 0; i < 100; ++i) {
    producer->send_async(text_message("c-" + std::to_string(i)), [&](Result<SendReceipt> outcome) {
      slow_work();
      if (outcome.ok()) ++sent;
    });
  }
  BOOST_REQUIRE(producer->flush(30s));
  BOOST_TEST(sent.load() == 100);

  std::atomic<int> acked{0};
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  int received = 0;
  while (received < 100 && std::chrono::steady_clock::now() < deadline) {
    for (auto& message : consumer->receive(100, 100ms)) {
      ++received;
      consumer->ack_async(message, [&](Status status) {
        slow_work();
        if (status.ok()) ++acked;
      });
    }
  }
  BOOST_REQUIRE_EQUAL(received, 100);
  BOOST_REQUIRE(consumer->flush_acks(30s));
  BOOST_TEST(acked.load() == 100);
}
