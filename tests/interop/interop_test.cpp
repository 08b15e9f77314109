// Wire compatibility with the real Danube client: the published `danube-client` crate (through
// tests/interop/rust-peer) produces into our embedded broker for our C++ consumer, and consumes
// what our C++ producer wrote. Payloads, attributes, keys, partitions and offsets are checked
// on both sides. Without the peer binary (no cargo) the test reports skipped, never passed.
//
// Dispatch modes (docs/embedded-broker.md): the cases about reliable dispatch run twice, in the
// broker's lossless mode and in its danube_0_15 mode, which loses what the real Danube 0.15.1
// broker loses; the name of each such case ends in the mode. A lossless run shows that the
// clients understand each other; the danube_0_15 run shows that the real client, on the wire
// the real broker speaks, sees exactly the loss that broker causes. Cases about partition
// routing and non-reliable topics (which have no dispatch modes) run in lossless mode only.
#include <signal.h>

#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <ostream>

#include "child_process.hpp"
#include "danube/client/client.hpp"
#include "danube/client/partitioning.hpp"
#include "danube/testkit/embedded_broker.hpp"

namespace danube::testkit {

// Lets Boost.Test print OffsetRange in failure messages (found by argument-dependent lookup).
std::ostream& boost_test_print_type(std::ostream& out, const OffsetRange& range) {
  return out << '[' << range.first << ',' << range.end << ')';
}

}  // namespace danube::testkit

using namespace danube::client;
using namespace std::chrono_literals;
using danube::test::ChildProcess;
using nlohmann::json;

namespace {

constexpr int kSkipExitCode = 77;  // ctest's SKIP_RETURN_CODE for this test

std::string peer_path() {
  const char* path = std::getenv("DANUBE_INTEROP_PEER");
  return path == nullptr ? std::string() : std::string(path);
}

// Skips the whole module when the peer was not built: reported as skipped by ctest.
struct RequirePeer {
  RequirePeer() {
    const std::string path = peer_path();
    if (path.empty() || !std::filesystem::exists(path)) {
      std::fprintf(stderr,
                   "interop: danube-interop-peer not available (DANUBE_INTEROP_PEER='%s'); "
                   "skipping\n",
                   path.c_str());
      std::exit(kSkipExitCode);
    }
  }
};
BOOST_TEST_GLOBAL_FIXTURE(RequirePeer);

using danube::testkit::DispatchFidelity;

danube::testkit::BrokerOptions broker_options(DispatchFidelity fidelity) {
  danube::testkit::BrokerOptions options;
  options.dispatch_fidelity = fidelity;
  options.max_unacked_messages = 10;  // a standalone Danube broker's window
  return options;
}

struct Environment {
  explicit Environment(DispatchFidelity fidelity = DispatchFidelity::lossless)
      : broker(broker_options(fidelity)) {
    broker.start();
    ClientOptions options;
    options.service_url = broker.service_url();
    auto created = DanubeClient::create(options);
    BOOST_REQUIRE(created.ok());
    client = std::make_unique<DanubeClient>(std::move(created).value());
  }
  std::vector<std::string> peer_args(std::vector<std::string> args) const {
    args.insert(args.begin(), {peer_path(), "--service-url", broker.service_url()});
    return args;
  }
  danube::testkit::EmbeddedBroker broker;
  std::unique_ptr<DanubeClient> client;
};

std::vector<json> read_peer_output(ChildProcess& peer, const std::string& summary_key) {
  std::vector<json> lines;
  while (auto line = peer.read_line(60s)) {
    json parsed = json::parse(*line);
    if (parsed.contains(summary_key)) break;
    lines.push_back(std::move(parsed));
  }
  return lines;
}

std::unique_ptr<Consumer> subscribe(Environment& env, const std::string& topic,
                                    const std::string& subscription) {
  ConsumerOptions options;
  options.topic = topic;
  options.consumer_name = "cpp-consumer";
  options.subscription = subscription;
  options.type = SubscriptionType::shared;
  auto consumer = env.client->subscribe(options);
  BOOST_REQUIRE(consumer.ok());
  return std::move(consumer).value();
}

std::vector<ReceivedMessage> receive_and_ack(Consumer& consumer, std::size_t count) {
  std::vector<ReceivedMessage> received;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (received.size() < count && std::chrono::steady_clock::now() < deadline) {
    for (auto& message : consumer.receive(count - received.size(), 100ms)) {
      consumer.ack_async(message);
      received.push_back(std::move(message));
    }
  }
  return received;
}

std::string base64(const std::string& data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  std::size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    const unsigned n = (static_cast<unsigned char>(data[i]) << 16) |
                       (static_cast<unsigned char>(data[i + 1]) << 8) |
                       static_cast<unsigned char>(data[i + 2]);
    out += {kAlphabet[(n >> 18) & 63], kAlphabet[(n >> 12) & 63], kAlphabet[(n >> 6) & 63],
            kAlphabet[n & 63]};
  }
  if (i < data.size()) {
    unsigned n = static_cast<unsigned char>(data[i]) << 16;
    if (i + 1 < data.size()) n |= static_cast<unsigned char>(data[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < data.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

void rust_producer_to_cpp_consumer_reliable(DispatchFidelity fidelity) {
  Environment env(fidelity);
  env.broker.create_topic("/default/from-rust", true);
  auto consumer = subscribe(env, "/default/from-rust", "cpp-reads-rust");

  ChildProcess peer(env.peer_args({"produce", "--topic", "/default/from-rust", "--count", "60",
                                   "--reliable", "--key-mode", "cycle:red,green,blue"}));
  const auto sent = read_peer_output(peer, "sent");
  BOOST_REQUIRE_EQUAL(peer.wait(30s), 0);
  BOOST_REQUIRE_EQUAL(sent.size(), 60u);

  auto received = receive_and_ack(*consumer, 60);
  BOOST_REQUIRE_EQUAL(received.size(), 60u);
  const std::vector<std::string> keys = {"red", "green", "blue"};
  for (std::size_t i = 0; i < received.size(); ++i) {
    const auto& message = received[i];
    BOOST_TEST_CONTEXT("message " << i) {
      BOOST_TEST(message.payload == "msg-" + std::to_string(i));
      BOOST_TEST(message.attributes.at("index") == std::to_string(i));
      BOOST_TEST(message.attributes.at("origin") == "rust-peer");
      BOOST_TEST(message.routing_key.value_or("") == keys[i % 3]);
      BOOST_TEST(message.id.topic_offset == i);
      BOOST_TEST(message.id.topic_name == "/default/from-rust");
      BOOST_TEST(message.producer_name == "rust-peer-producer");
      BOOST_TEST(message.request_id == sent[i]["request_id"].get<std::uint64_t>());
    }
  }
  BOOST_TEST(consumer->flush_acks(10s));
}

}  // namespace

// 60 messages, fewer than the window and the live tail hold: both modes deliver every one.
BOOST_AUTO_TEST_CASE(rust_producer_to_cpp_consumer_reliable_lossless) {
  rust_producer_to_cpp_consumer_reliable(DispatchFidelity::lossless);
}
BOOST_AUTO_TEST_CASE(rust_producer_to_cpp_consumer_reliable_danube_0_15) {
  rust_producer_to_cpp_consumer_reliable(DispatchFidelity::danube_0_15);
}

BOOST_AUTO_TEST_CASE(rust_partitioned_keyed_producer_lands_keys_where_our_client_would) {
  Environment env;
  env.broker.create_topic("/default/rust-parts", true, 3);
  auto consumer = subscribe(env, "/default/rust-parts", "cpp-parts");
  BOOST_REQUIRE_EQUAL(consumer->partitions().size(), 3u);

  ChildProcess peer(
      env.peer_args({"produce", "--topic", "/default/rust-parts", "--count", "45", "--reliable",
                     "--partitions", "3", "--key-mode", "cycle:alpha,beta,gamma,delta,epsilon"}));
  read_peer_output(peer, "sent");
  BOOST_REQUIRE_EQUAL(peer.wait(30s), 0);

  auto received = receive_and_ack(*consumer, 45);
  BOOST_REQUIRE_EQUAL(received.size(), 45u);
  for (const auto& message : received) {
    BOOST_REQUIRE(message.routing_key.has_value());
    const auto partition = partition_for_key(*message.routing_key, 3);
    BOOST_TEST_CONTEXT("key " << *message.routing_key) {
      BOOST_TEST(message.id.topic_name == "/default/rust-parts-part-" + std::to_string(partition));
      BOOST_TEST(message.producer_name == "rust-peer-producer-" + std::to_string(partition));
    }
  }
}

BOOST_AUTO_TEST_CASE(rust_non_reliable_producer_to_cpp_consumer) {
  Environment env;
  env.broker.create_topic("/default/rust-live", false);
  auto consumer = subscribe(env, "/default/rust-live", "cpp-live");
  BOOST_REQUIRE(env.broker.wait_until(
      [&] {
        auto sub = env.broker.subscription("/default/rust-live", "cpp-live");
        return sub && sub->connected_consumers == 1;
      },
      10s));
  // A handful of messages: the broker's per-consumer queue is 4 and the Rust client sends one
  // at a time, waiting for each reply, while our reader drains the stream.
  ChildProcess peer(env.peer_args({"produce", "--topic", "/default/rust-live", "--count", "20"}));
  read_peer_output(peer, "sent");
  BOOST_REQUIRE_EQUAL(peer.wait(30s), 0);
  // Non-reliable dispatch is at most once: when our reader is not scheduled in time (a loaded
  // machine) the broker drops what does not fit the queue and counts it. Every message is
  // either received, in order, or counted as dropped.
  const auto dropped = [&] {
    const auto counters = env.broker.counters("/default/rust-live");
    return counters ? counters->dropped : 0;
  };
  std::vector<ReceivedMessage> received;
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (received.size() + dropped() < 20 && std::chrono::steady_clock::now() < deadline) {
    for (auto& message : consumer->receive(20, 100ms))
      received.push_back(std::move(message));
  }
  BOOST_TEST_MESSAGE("received " << received.size() << ", dropped by the broker " << dropped());
  BOOST_REQUIRE_EQUAL(received.size() + dropped(), 20u);
  BOOST_REQUIRE(!received.empty());
  int previous = -1;
  for (const auto& message : received) {
    BOOST_TEST(message.payload.rfind("msg-", 0) == 0u);
    const int index = std::stoi(message.payload.substr(4));
    BOOST_TEST(index > previous);
    BOOST_TEST(message.attributes.at("index") == std::to_string(index));
    BOOST_TEST(message.id.topic_offset == 0u);
    previous = index;
  }
}

namespace {

void cpp_producer_to_rust_consumer_reliable_partitioned_and_keyed(DispatchFidelity fidelity) {
  Environment env(fidelity);
  ProducerOptions producer_options;
  producer_options.topic = "/default/from-cpp";
  producer_options.name = "cpp-producer";
  producer_options.dispatch = Dispatch::reliable;
  producer_options.partitions = 2;
  auto producer = env.client->create_producer(producer_options);
  BOOST_REQUIRE(producer.ok());

  ChildProcess peer(
      env.peer_args({"consume", "--topic", "/default/from-cpp", "--subscription", "rust-reads-cpp",
                     "--count", "40", "--ack", "--timeout-ms", "60000"}));
  auto ready = peer.read_line(60s);
  BOOST_REQUIRE(ready.has_value());
  BOOST_REQUIRE(json::parse(*ready).value("ready", false));

  std::map<std::string, OutgoingMessage> sent;
  for (int i = 0; i < 40; ++i) {
    OutgoingMessage message;
    message.payload = "cpp-" + std::to_string(i) + std::string("\0\xff binary", 9);
    message.attributes = {{"index", std::to_string(i)}, {"origin", "cpp"}};
    message.key = "key-" + std::to_string(i % 4);
    sent[std::to_string(i)] = message;
    auto outcome = producer.value()->send(std::move(message)).get();
    BOOST_REQUIRE(outcome.ok());
  }

  const auto lines = read_peer_output(peer, "received");
  BOOST_REQUIRE_EQUAL(peer.wait(30s), 0);
  BOOST_REQUIRE_EQUAL(lines.size(), 40u);
  std::map<std::string, std::uint64_t> next_offset;
  for (const auto& line : lines) {
    const std::string index = line["attributes"]["index"].get<std::string>();
    const OutgoingMessage& original = sent.at(index);
    BOOST_TEST_CONTEXT("message " << index) {
      BOOST_TEST(line["payload_b64"].get<std::string>() == base64(original.payload));
      BOOST_TEST(line["attributes"]["origin"].get<std::string>() == "cpp");
      BOOST_TEST(line["routing_key"].get<std::string>() == *original.key);
      const std::string topic = line["topic"].get<std::string>();
      BOOST_TEST(topic ==
                 "/default/from-cpp-part-" + std::to_string(partition_for_key(*original.key, 2)));
      BOOST_TEST(line["producer_name"].get<std::string>() ==
                 "cpp-producer-" + std::to_string(partition_for_key(*original.key, 2)));
      // Offsets are consecutive per partition, in the order this consumer saw them.
      BOOST_TEST(line["topic_offset"].get<std::uint64_t>() == next_offset[topic]++);
    }
  }
}

}  // namespace

// 40 messages over two partitions, acked as they arrive: both modes deliver every one.
BOOST_AUTO_TEST_CASE(cpp_producer_to_rust_consumer_reliable_partitioned_and_keyed_lossless) {
  cpp_producer_to_rust_consumer_reliable_partitioned_and_keyed(DispatchFidelity::lossless);
}
BOOST_AUTO_TEST_CASE(cpp_producer_to_rust_consumer_reliable_partitioned_and_keyed_danube_0_15) {
  cpp_producer_to_rust_consumer_reliable_partitioned_and_keyed(DispatchFidelity::danube_0_15);
}

namespace {

constexpr std::uint64_t kWindow = 10;  // broker_options(): max_unacked_messages
constexpr std::uint64_t kTail = 256;   // Danube 0.15.1's live tail
constexpr std::uint64_t kBacklog = 2000;

std::vector<std::uint64_t> offsets_of(const std::vector<json>& lines) {
  std::vector<std::uint64_t> offsets;
  for (const auto& line : lines)
    offsets.push_back(line.at("topic_offset").get<std::uint64_t>());
  return offsets;
}

std::vector<std::uint64_t> offsets_from(std::uint64_t first, std::uint64_t end) {
  std::vector<std::uint64_t> offsets;
  for (auto offset = first; offset < end; ++offset)
    offsets.push_back(offset);
  return offsets;
}

void publish(Producer& producer, std::uint64_t first, std::uint64_t end) {
  for (auto i = first; i < end; ++i) {
    OutgoingMessage message;
    message.payload = "lag-" + std::to_string(i);
    auto outcome = producer.send(std::move(message)).get();
    BOOST_REQUIRE(outcome.ok());
  }
}

// The Rust client as a consumer that stops acking while 2000 messages are published (the
// workload measured on Danube 0.15.1, real-broker-0.15.1.md), then comes back and acks. A
// first peer receives the window without acking and stays connected while the rest is
// published; it is then stopped, and a second peer on the same subscription acks everything
// it gets. Returns the offsets the second peer received, in order.
std::vector<std::uint64_t> rust_consumer_that_stops_acking(Environment& env,
                                                           std::uint64_t expected) {
  const std::string topic = "/default/rust-lagging";
  const std::string subscription = "rust-lagging";
  env.broker.create_topic(topic, true);
  ProducerOptions producer_options;
  producer_options.topic = topic;
  producer_options.name = "cpp-lag-producer";
  producer_options.dispatch = Dispatch::reliable;
  auto producer = env.client->create_producer(producer_options);
  BOOST_REQUIRE(producer.ok());
  const auto consumer_args = [&](std::uint64_t count, bool ack) {
    std::vector<std::string> args = {
        "consume",      "--topic",      topic,     "--subscription",      subscription,
        "--sub-type",   "exclusive",    "--count", std::to_string(count), "--consumer-name",
        "rust-lagging", "--timeout-ms", "120000"};
    if (ack) args.emplace_back("--ack");
    return env.peer_args(std::move(args));
  };
  const auto connected = [&](std::size_t count) {
    return env.broker.wait_until(
        [&] {
          const auto snapshot = env.broker.subscription(topic, subscription);
          return snapshot && snapshot->connected_consumers == count;
        },
        30s);
  };

  // Asks for one more than the window, so it waits, connected, for a message that never comes.
  ChildProcess holder(consumer_args(kWindow + 1, false));
  const auto ready = holder.read_line(60s);
  BOOST_REQUIRE(ready.has_value());
  BOOST_REQUIRE(json::parse(*ready).value("ready", false));
  // A subscription's dispatcher reads only while a consumer's stream is open.
  BOOST_REQUIRE(connected(1));
  publish(*producer.value(), 0, kWindow);
  std::vector<json> window;
  for (std::uint64_t i = 0; i < kWindow; ++i) {
    const auto line = holder.read_line(60s);
    BOOST_REQUIRE_MESSAGE(line.has_value(), "the holding peer got " << i << " messages");
    window.push_back(json::parse(*line));
  }
  BOOST_TEST(offsets_of(window) == offsets_from(0, kWindow), boost::test_tools::per_element());
  // The window is full and nothing is acked: the rest piles up behind it.
  publish(*producer.value(), kWindow, kBacklog);
  holder.signal(SIGTERM);
  BOOST_TEST(holder.wait(30s) != 0);
  BOOST_REQUIRE(connected(0));

  ChildProcess returning(consumer_args(expected, true));
  const auto returned = returning.read_line(60s);
  BOOST_REQUIRE(returned.has_value());
  BOOST_REQUIRE(json::parse(*returned).value("ready", false));
  const auto lines = read_peer_output(returning, "received");
  BOOST_REQUIRE_EQUAL(returning.wait(60s), 0);
  // Nothing is left to dispatch and nothing is unacked: no further message can arrive.
  BOOST_REQUIRE(env.broker.wait_until(
      [&] {
        const auto snapshot = env.broker.subscription(topic, subscription);
        return snapshot && snapshot->next_offset == kBacklog && snapshot->in_flight == 0;
      },
      30s));
  return offsets_of(lines);
}

}  // namespace

// Lossless mode: the returning consumer gets the unacked window again, then everything else.
BOOST_AUTO_TEST_CASE(rust_consumer_that_stops_acking_gets_everything_lossless) {
  Environment env(DispatchFidelity::lossless);
  const auto offsets = rust_consumer_that_stops_acking(env, kBacklog);
  BOOST_TEST(offsets == offsets_from(0, kBacklog), boost::test_tools::per_element());
  const auto snapshot = env.broker.subscription("/default/rust-lagging", "rust-lagging");
  BOOST_TEST(snapshot->skipped_by_lag == 0u);
  BOOST_TEST(snapshot->cursor == kBacklog);
}

// danube_0_15 mode: as on Danube 0.15.1, the returning consumer gets the unacked window again
// and then only the newest 256 entries: offsets 10..1743 (backlog - W - 256 = 1734) are gone.
BOOST_AUTO_TEST_CASE(rust_consumer_that_stops_acking_loses_all_but_the_newest_256_danube_0_15) {
  Environment env(DispatchFidelity::danube_0_15);
  const auto offsets = rust_consumer_that_stops_acking(env, kWindow + kTail);
  auto expected = offsets_from(0, kWindow);
  for (const auto offset : offsets_from(kBacklog - kTail, kBacklog))
    expected.push_back(offset);
  BOOST_TEST(offsets == expected, boost::test_tools::per_element());
  const auto snapshot = env.broker.subscription("/default/rust-lagging", "rust-lagging");
  BOOST_TEST(snapshot->skipped_by_lag == kBacklog - kWindow - kTail);
  BOOST_TEST((snapshot->skipped ==
              std::vector<danube::testkit::OffsetRange>{{kWindow, kBacklog - kTail}}));
  BOOST_TEST(snapshot->cursor == kWindow);  // the cursor stops at the gap for good
}
