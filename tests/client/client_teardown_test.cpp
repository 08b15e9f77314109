// Tearing the client down from the threads that are hardest for it: its own completion
// callbacks and reader threads (where gRPC 1.51 must not see the last channel released), while
// calls are still in flight, and while the broker is down. The broker runs as a separate
// process in the crash-prone cases, so the client's channels are the only users of gRPC's
// callback completion queue, exactly as in a connector process.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <thread>

#include "child_process.hpp"
#include "client_test_support.hpp"

using namespace danube::client;
using namespace danube::client::test;
using namespace std::chrono_literals;
using danube::test::ChildProcess;

namespace {

// A broker in a process of its own, on a free port, with one reliable topic.
class BrokerProcess {
 public:
  explicit BrokerProcess(const std::string& topic)
      : process_({DANUBE_EMBEDDED_BROKER_PATH, "--listen", "127.0.0.1:0", "--topic", topic,
                  "--log-level", "warn"}) {
    const std::string prefix = "danube-embedded-broker listening on ";
    while (auto line = process_.read_line(30s)) {
      if (line->rfind(prefix, 0) == 0) {
        service_url_ = "http://" + line->substr(prefix.size());
        return;
      }
    }
    BOOST_FAIL("the broker process did not report its address");
  }
  ~BrokerProcess() {
    process_.signal(SIGTERM);
    process_.wait(10s);
  }
  const std::string& service_url() const { return service_url_; }

 private:
  ChildProcess process_;
  std::string service_url_;
};

// A deadlocked teardown would hang the whole test binary at exit: report and leave instead.
void require_within(std::future<void>& done, std::chrono::seconds limit, const char* what) {
  if (done.wait_for(limit) == std::future_status::ready) return;
  std::fprintf(stderr, "client_teardown_test: %s did not finish within %lld s (deadlock)\n", what,
               static_cast<long long>(limit.count()));
  std::fflush(stderr);
  std::_Exit(1);
}

ConsumerOptions consumer_options(const std::string& topic) {
  ConsumerOptions options;
  options.topic = topic;
  options.consumer_name = "teardown-consumer";
  options.subscription = "teardown";
  options.type = SubscriptionType::exclusive;
  return options;
}

ProducerOptions producer_options(const std::string& topic) {
  ProducerOptions options;
  options.topic = topic;
  options.name = "teardown-producer";
  options.dispatch = Dispatch::reliable;
  return options;
}

std::shared_ptr<DanubeClient> make_client(const std::string& service_url) {
  auto created = DanubeClient::create(fast_client_options(service_url));
  BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
  return std::make_shared<DanubeClient>(std::move(created).value());
}

void publish(DanubeClient& client, const std::string& topic, int count) {
  auto producer = client.create_producer(producer_options(topic));
  BOOST_REQUIRE_MESSAGE(producer.ok(), error_text(producer));
  for (int i = 0; i < count; ++i) {
    auto receipt = producer.value()->send(text_message("m" + std::to_string(i))).get();
    BOOST_REQUIRE_MESSAGE(receipt.ok(), error_text(receipt));
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_last_handles_released_in_an_ack_callback_are_closed_elsewhere) {
  BrokerProcess broker("/default/ack-release");
  auto client = make_client(broker.service_url());
  auto subscribed = client->subscribe(consumer_options("/default/ack-release"));
  BOOST_REQUIRE_MESSAGE(subscribed.ok(), error_text(subscribed));
  std::shared_ptr<Consumer> consumer = std::move(subscribed).value();
  publish(*client, "/default/ack-release", 1);
  auto received = receive_n(*consumer, 1);
  BOOST_REQUIRE_EQUAL(received.size(), 1u);

  // The callback owns the only handles: the consumer and the client are released on the
  // gRPC thread that runs it, while the ack call that called it is still being completed.
  std::promise<void> released;
  auto done = released.get_future();
  std::atomic<bool> acked{false};
  Consumer& target = *consumer;
  target.ack_async(received.front(), [consumer = std::move(consumer), client = std::move(client),
                                      &released, &acked](Status status) mutable {
    acked = status.ok();
    consumer.reset();
    client.reset();
    released.set_value();
  });
  require_within(done, 30s, "releasing the consumer in its ack callback");
  BOOST_TEST(acked.load());
}

BOOST_AUTO_TEST_CASE(the_last_handles_released_in_a_send_callback_are_closed_elsewhere) {
  BrokerProcess broker("/default/send-release");
  auto client = make_client(broker.service_url());
  auto created = client->create_producer(producer_options("/default/send-release"));
  BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
  std::shared_ptr<Producer> producer = std::move(created).value();

  std::promise<void> released;
  auto done = released.get_future();
  std::atomic<bool> sent{false};
  Producer& target = *producer;
  target.send_async(text_message("last"),
                    [producer = std::move(producer), client = std::move(client), &released,
                     &sent](Result<SendReceipt> outcome) mutable {
                      sent = outcome.ok();
                      producer.reset();
                      client.reset();
                      released.set_value();
                    });
  require_within(done, 30s, "releasing the producer in its send callback");
  BOOST_TEST(sent.load());
}

BOOST_AUTO_TEST_CASE(a_consumer_released_in_its_ready_callback_is_closed_elsewhere) {
  BrokerProcess broker("/default/ready-release");
  auto client = make_client(broker.service_url());
  auto subscribed = client->subscribe(consumer_options("/default/ready-release"));
  BOOST_REQUIRE_MESSAGE(subscribed.ok(), error_text(subscribed));
  auto consumer = std::make_shared<std::shared_ptr<Consumer>>(std::move(subscribed).value());

  // The ready callback runs on the partition's reader thread; releasing the consumer there
  // must neither join that thread from itself nor wait for it.
  std::promise<void> released;
  auto done = released.get_future();
  (*consumer)->set_ready_callback([consumer, &released] {
    if (!*consumer) return;
    consumer->reset();
    released.set_value();
  });
  publish(*client, "/default/ready-release", 1);
  require_within(done, 30s, "releasing the consumer in its ready callback");
  client.reset();
}

BOOST_AUTO_TEST_CASE(closing_from_a_callback_returns_at_once_and_closes_later) {
  BrokerAndClient env;
  env.broker().create_topic("/default/close-in-callback", true, 0);
  auto consumer = env.consumer(consumer_options("/default/close-in-callback"));
  publish(*env.client, "/default/close-in-callback", 2);
  auto received = receive_n(*consumer, 2);
  BOOST_REQUIRE_EQUAL(received.size(), 2u);

  std::promise<void> returned;
  auto done = returned.get_future();
  consumer->ack_async(received[0], [&](Status) {
    consumer->close();  // waiting here for this very callback would never end
    returned.set_value();
  });
  require_within(done, 30s, "close() called from an ack callback");
  // The close runs on a client thread; once it did, new acks are refused as cancelled.
  BOOST_TEST(eventually([&] {
    auto status = consumer->ack(received[1]).get();
    return !status.ok() && status.error().category() == ErrorCategory::cancelled;
  }));
}

BOOST_AUTO_TEST_CASE(clients_torn_down_with_calls_in_flight_across_broker_restarts) {
  // What a connector does when its broker restarts: everything is dropped while acks and
  // health checks are still completing, and new connections are made at once.
  for (int round = 0; round < 20; ++round) {
    BOOST_TEST_CONTEXT("round " << round) {
      danube::testkit::EmbeddedBroker broker;
      broker.start();
      broker.create_topic("/default/churn", true, 2);
      auto options = fast_client_options(broker.service_url());
      options.health_check_interval = 1ms;  // probes in flight all the time
      auto created = DanubeClient::create(options);
      BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
      auto client = std::make_unique<DanubeClient>(std::move(created).value());
      auto consumer = client->subscribe(consumer_options("/default/churn"));
      BOOST_REQUIRE_MESSAGE(consumer.ok(), error_text(consumer));
      auto producer_config = producer_options("/default/churn");
      producer_config.partitions = 2;
      auto producer = client->create_producer(producer_config);
      BOOST_REQUIRE_MESSAGE(producer.ok(), error_text(producer));
      for (int i = 0; i < 20; ++i)
        producer.value()->send_async(text_message("x"), {});
      receive_n(*consumer.value(), 10, Acks::each, 5s);
      // No flush: acks, sends and probes are in flight as the handles and the broker go.
      consumer.value().reset();
      producer.value().reset();
      client.reset();
    }
  }
}

BOOST_AUTO_TEST_CASE(close_does_not_wait_out_timeouts_while_the_broker_is_down) {
  danube::testkit::EmbeddedBroker broker;
  broker.start();
  auto options = fast_client_options(broker.service_url());
  options.connect_timeout = 60s;
  options.request_timeout = 60s;
  // The first failed stream sends the reader straight into a new subscription (a lookup).
  options.retry.max_retries = 0;
  options.retry.base_backoff = 1ms;
  auto created = DanubeClient::create(options);
  BOOST_REQUIRE_MESSAGE(created.ok(), error_text(created));
  DanubeClient client = std::move(created).value();
  auto producer = std::move(client.create_producer(producer_options("/default/down"))).value();
  auto consumer = std::move(client.subscribe(consumer_options("/default/down"))).value();
  broker.stop();
  // The reader reopens its stream a few times, then subscribes again: a topic lookup that waits
  // for a connection (60 s per attempt, then retries). The producer's send waits for its
  // retries and a re-creation that each wait as long.
  const auto resubscribing = client.options().retry.max_retries + 1;
  BOOST_REQUIRE(eventually([&] { return consumer->stats().stream_reopens >= resubscribing; }));
  std::promise<Result<SendReceipt>> outcome;
  auto sent = outcome.get_future();
  producer->send_async(text_message("unsendable"),
                       [&](Result<SendReceipt> result) { outcome.set_value(std::move(result)); });

  std::promise<void> closed;
  auto done = closed.get_future();
  std::thread closer([&] {
    consumer->close(100ms);
    producer->close(100ms);
    closed.set_value();
  });
  // Not a speed check: without cancellation close() sits out at least one 60 s connect wait;
  // with it, it returns as soon as the cancelled waits notice.
  const bool in_time = done.wait_for(20s) == std::future_status::ready;
  BOOST_TEST(in_time);
  closer.join();
  // Unsendable either way: failed for good before the close, or cancelled by it.
  BOOST_TEST(!sent.get().ok());
}
