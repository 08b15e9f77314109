// The client when things go wrong or get slow: bounded memory with a stalled application,
// broker restarts with a data dir, CLOSE from the health check, stream cuts, many partitions.
#include <pthread.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <set>

#include "client_test_support.hpp"
#include "thread_names.hpp"

using namespace danube::client;
using namespace danube::client::test;
using namespace std::chrono_literals;
namespace testkit = danube::testkit;

namespace {

struct TempDir {
  TempDir() {
    path = std::filesystem::temp_directory_path() /
           ("danube-client-test-" + std::to_string(::getpid()) + "-" +
            std::to_string(std::chrono::steady_clock::now().time_since_epoch().count()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::filesystem::path path;
};

ConsumerOptions consumer_options(const std::string& topic, const std::string& subscription) {
  ConsumerOptions options;
  options.topic = topic;
  options.consumer_name = subscription + "-consumer";
  options.subscription = subscription;
  options.type = SubscriptionType::exclusive;
  return options;
}

ProducerOptions reliable_producer(const std::string& topic, std::size_t max_in_flight = 64) {
  ProducerOptions options;
  options.topic = topic;
  options.name = "resilient-producer";
  options.dispatch = Dispatch::reliable;
  options.ordering = Ordering::relaxed;
  options.max_in_flight = max_in_flight;
  return options;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_stalled_application_keeps_client_memory_bounded_and_loses_nothing) {
  testkit::BrokerOptions broker_options;
  broker_options.max_unacked_messages = 200'000;  // let the broker push as fast as it can
  // Not about ack timeouts: on a loaded machine reading 100 000 messages took longer than the
  // default 30 s, and the broker's redeliveries counted as duplicates (23 278 in one run).
  broker_options.ack_timeout = std::chrono::minutes(10);
  BrokerAndClient env(broker_options);
  auto producer = env.producer(reliable_producer("/default/firehose"));
  auto options = consumer_options("/default/firehose", "slow");
  options.buffer_max_messages = 1000;
  auto consumer = env.consumer(options);

  constexpr std::size_t kCount = 100'000;
  const std::string payload(100, 'p');
  for (std::size_t i = 0; i < kCount; ++i) {
    OutgoingMessage message;
    message.payload = payload;
    message.attributes["i"] = std::to_string(i);
    producer->send_async(std::move(message), {});
  }
  BOOST_REQUIRE(producer->flush(120s));
  BOOST_REQUIRE_EQUAL(producer->stats().sent, kCount);

  // Nothing has been read by the application: the buffer is full and no bigger than its bound
  // plus the one message each reader may hold.
  const auto stalled = consumer->stats();
  BOOST_TEST(stalled.buffered_messages <= 1001u);
  BOOST_TEST(stalled.buffered_messages >= 1000u);
  // HTTP/2 flow control held the rest at the broker: far fewer than all were written out.
  const auto counters = env.broker().counters("/default/firehose");
  BOOST_REQUIRE(counters.has_value());
  BOOST_TEST_MESSAGE("delivered by the broker while stalled: " << counters->delivered << " of "
                                                               << kCount);
  BOOST_TEST(counters->delivered < kCount / 2);

  // Once the application reads, everything arrives exactly once (the relaxed producer gives
  // no order to check).
  std::vector<bool> seen(kCount, false);
  std::size_t received = 0;
  std::size_t duplicates = 0;
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (received < kCount && std::chrono::steady_clock::now() < deadline) {
    for (auto& message : consumer->receive(1000, 100ms)) {
      const auto index = std::stoul(message.attributes.at("i"));
      BOOST_REQUIRE(index < kCount);
      if (seen[index]) {
        ++duplicates;
      } else {
        seen[index] = true;
        ++received;
      }
      consumer->ack_async(message);
    }
    BOOST_TEST(consumer->stats().buffered_messages <= 1001u);
  }
  BOOST_TEST(received == kCount);
  BOOST_TEST(duplicates == 0u);
  BOOST_TEST(consumer->flush_acks(30s));
}

BOOST_AUTO_TEST_CASE(a_broker_restart_with_a_data_dir_loses_no_acknowledged_message) {
  TempDir data;
  testkit::BrokerOptions broker_options;
  broker_options.data_dir = data.path;
  broker_options.fsync = testkit::FsyncPolicy::never;  // an in-process restart keeps page cache
  BrokerAndClient env(broker_options, 100ms);
  auto producer = env.producer(reliable_producer("/default/durable", 8));
  auto consumer = env.consumer(consumer_options("/default/durable", "keeper"));

  std::mutex mutex;
  std::set<std::string> acknowledged_by_broker;
  std::atomic<int> send_failures{0};
  auto send_range = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const std::string payload = "m-" + std::to_string(i);
      OutgoingMessage message;
      message.payload = payload;
      producer->send_async(std::move(message), [&, payload](Result<SendReceipt> outcome) {
        std::lock_guard lock(mutex);
        if (outcome.ok()) {
          acknowledged_by_broker.insert(payload);
        } else {
          ++send_failures;
        }
      });
    }
  };

  std::set<std::string> seen;
  auto drain = [&](std::size_t want) {
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (seen.size() < want && std::chrono::steady_clock::now() < deadline) {
      for (auto& message : consumer->receive(500, 100ms)) {
        seen.insert(message.payload);
        consumer->ack_async(message);
      }
    }
  };

  send_range(0, 300);
  BOOST_REQUIRE(producer->flush(30s));
  drain(150);  // part consumed and acked, part still waiting in the broker

  env.broker().restart();

  // Sending goes on: the producer is recreated (NOT_FOUND or CLOSE) and the consumer
  // resubscribes (NOT_FOUND on its stream), with no application restart.
  send_range(300, 600);
  BOOST_REQUIRE(producer->flush(60s));
  BOOST_TEST(send_failures.load() == 0);
  drain(600);

  std::lock_guard lock(mutex);
  BOOST_TEST(acknowledged_by_broker.size() == 600u);
  for (const auto& payload : acknowledged_by_broker) {
    BOOST_TEST_CONTEXT(payload) {
      BOOST_TEST(seen.count(payload) == 1u);
    }
  }
  BOOST_TEST(producer->stats().recreated >= 1u);
  BOOST_TEST(consumer->stats().resubscribes >= 1u);
}

BOOST_AUTO_TEST_CASE(close_from_the_health_check_recreates_an_idle_producer) {
  BrokerAndClient env({}, 50ms);
  auto producer = env.producer(reliable_producer("/default/idle"));
  BOOST_REQUIRE(producer->send(text_message("before")).get().ok());
  // Without a data dir the restarted broker forgets the producer: its health check says CLOSE.
  env.broker().restart();
  BOOST_TEST(eventually([&] { return producer->stats().recreated >= 1; }));
  BOOST_TEST(producer->stats().retried == 0u);  // recreated before any send had to fail
  BOOST_TEST(producer->send(text_message("after")).get().ok());
}

BOOST_AUTO_TEST_CASE(cut_streams_are_reopened_without_losing_messages) {
  BrokerAndClient env;
  auto producer = env.producer(reliable_producer("/default/cuts"));
  auto consumer = env.consumer(consumer_options("/default/cuts", "resilient"));
  std::set<std::string> seen;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 40; ++i)
      producer->send_async(text_message(std::to_string(round * 40 + i)), {});
    BOOST_REQUIRE(producer->flush(20s));
    env.broker().cut_streams();
  }
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (seen.size() < 200 && std::chrono::steady_clock::now() < deadline) {
    for (auto& message : consumer->receive(100, 100ms)) {
      seen.insert(message.payload);
      consumer->ack_async(message);
    }
  }
  BOOST_TEST(seen.size() == 200u);
  // Counted when the reader sees its stream end, which under load can come after the broker
  // already delivered everything.
  BOOST_TEST(eventually([&] { return consumer->stats().stream_reopens >= 1u; }));
}

BOOST_AUTO_TEST_CASE(every_partition_of_every_consumer_is_read_on_the_clients_one_stream_thread) {
  // A thread takes the name of the thread that starts it: a reader thread per partition, started
  // here, would show as more threads with this one's name.
  char name[16] = {};
  BOOST_REQUIRE(pthread_getname_np(pthread_self(), name, sizeof name) == 0);
  BrokerAndClient env;
  auto options = reliable_producer("/default/wide");
  options.partitions = 8;
  auto producer = env.producer(options);
  producer->send_async(text_message("warm-up"), {});
  BOOST_REQUIRE(producer->flush(20s));
  const std::size_t named_like_this_one = danube::test::threads_named(::getpid(), name);
  BOOST_TEST(danube::test::threads_named(::getpid(), "danube-streams") == 0u);

  auto first = env.consumer(consumer_options("/default/wide", "first"));
  auto second = env.consumer(consumer_options("/default/wide", "second"));
  BOOST_REQUIRE_EQUAL(first->partitions().size(), 8u);
  constexpr int kCount = 160;
  for (int i = 0; i < kCount; ++i)
    producer->send_async(text_message(std::to_string(i)), {});
  BOOST_REQUIRE(producer->flush(20s));
  for (Consumer* consumer : {first.get(), second.get()}) {
    std::set<std::string> seen;
    std::set<std::string> partitions;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (seen.size() < kCount && std::chrono::steady_clock::now() < deadline) {
      for (auto& message : consumer->receive(100, 100ms)) {
        seen.insert(message.payload);
        partitions.insert(message.id.topic_name);
        consumer->ack_async(message);
      }
    }
    BOOST_TEST(seen.size() == static_cast<std::size_t>(kCount));
    BOOST_TEST(partitions.size() == 8u);
    BOOST_TEST(consumer->flush_acks(20s));
  }
  BOOST_TEST(danube::test::threads_named(::getpid(), "danube-streams") == 1u);
  // At most as many: a thread another case started (gRPC's, the broker's) may have ended since.
  BOOST_TEST(danube::test::threads_named(::getpid(), name) <= named_like_this_one);
  BOOST_TEST(danube::test::threads_named(::getpid(), "danube-reopen") == 0u);
}
