// DispatchFidelity::danube_0_15: the embedded broker loses what the real Danube 0.15.1 broker
// loses (/work/shared/danube/real-broker-0.15.1.md, docs/embedded-broker.md "Dispatch modes").
// A subscription fed from the live tail keeps only the newest 256 entries once it falls behind,
// so a consumer that stops acking while B messages are published gets the first W (the window)
// and the newest 256: lost = B - W - 256. The same workloads in lossless mode lose nothing.

#include <boost/test/unit_test.hpp>
#include <ostream>
#include <thread>

#include "broker_test_support.hpp"
#include "message_log.hpp"

namespace danube::testkit {

// Lets Boost.Test print OffsetRange in failure messages (found by argument-dependent lookup).
std::ostream& boost_test_print_type(std::ostream& out, const OffsetRange& range) {
  return out << '[' << range.first << ',' << range.end << ')';
}

}  // namespace danube::testkit

namespace danube::testkit::test {
namespace {

using grpc::StatusCode;

constexpr std::uint32_t kWindow = 10;  // Danube standalone's max_unacked_messages
constexpr std::uint64_t kTail = 256;   // Danube's live tail (tokio broadcast capacity)

BrokerOptions faithful_options() {
  auto options = fast_options();
  options.dispatch_fidelity = DispatchFidelity::danube_0_15;
  options.max_unacked_messages = kWindow;
  return options;
}

BrokerOptions persistent_faithful_options(const TempDir& dir) {
  auto options = faithful_options();
  options.data_dir = dir.path();
  options.cluster_like = true;
  options.cursor_persist_interval = 0ms;
  return options;
}

std::vector<std::uint64_t> offsets_of(const std::vector<danube::StreamMessage>& messages) {
  std::vector<std::uint64_t> offsets;
  for (const auto& message : messages)
    offsets.push_back(message.msg_id().topic_offset());
  return offsets;
}

// [first, end), optionally followed by [first2, end2).
std::vector<std::uint64_t> offset_range(std::uint64_t first, std::uint64_t end,
                                        std::uint64_t first2 = 0, std::uint64_t end2 = 0) {
  std::vector<std::uint64_t> offsets;
  for (auto offset = first; offset < end; ++offset)
    offsets.push_back(offset);
  for (auto offset = first2; offset < end2; ++offset)
    offsets.push_back(offset);
  return offsets;
}

void publish(Client& client, std::uint64_t producer, const std::string& topic, std::size_t count,
             const std::string& prefix = "m", std::size_t first_index = 0) {
  for (std::size_t i = first_index; i < first_index + count; ++i)
    client.send_ok(producer, topic, prefix + std::to_string(i));
}

void ack_all(Client& client, const std::vector<danube::StreamMessage>& messages,
             const std::string& subscription) {
  for (const auto& message : messages)
    BOOST_REQUIRE(client.ack(message, subscription).ok());
}

// Takes `count` messages, acking each as it arrives: past the window, the next message is only
// dispatched once an earlier one is acked.
std::vector<danube::StreamMessage> take_acking(StreamReader& reader, Client& client,
                                               const std::string& subscription, std::size_t count) {
  std::vector<danube::StreamMessage> taken;
  for (std::size_t i = 0; i < count; ++i) {
    auto message = reader.next();
    BOOST_REQUIRE_MESSAGE(message.has_value(), "expected " << count << " messages, got " << i);
    BOOST_REQUIRE(client.ack(*message, subscription).ok());
    taken.push_back(std::move(*message));
  }
  return taken;
}

// Waits until the subscription has dispatched everything up to `end_offset`, holds nothing
// unacked and the topic has completed `delivered` stream writes: after that no further message
// can reach the consumer, so what the reader holds is everything it will ever get.
void require_settled(const EmbeddedBroker& broker, const std::string& topic,
                     const std::string& subscription, std::uint64_t end_offset,
                     std::uint64_t delivered) {
  BOOST_REQUIRE(broker.wait_until(
      [&] {
        const auto snapshot = broker.subscription(topic, subscription);
        const auto counters = broker.counters(topic);
        return snapshot && counters && snapshot->next_offset == end_offset &&
               snapshot->in_flight == 0 && counters->delivered == delivered;
      },
      kWait));
}

bool wait_persisted(const EmbeddedBroker& broker, const std::string& topic,
                    const std::string& subscription, std::uint64_t cursor) {
  return broker.wait_until(
      [&] {
        const auto snapshot = broker.subscription(topic, subscription);
        return snapshot && snapshot->persisted_cursor == cursor;
      },
      kWait);
}

// (a) The measured case: 2000 published while the consumer receives but does not ack.
BOOST_AUTO_TEST_CASE(consumer_that_does_not_ack_gets_the_window_then_the_newest_256) {
  constexpr std::uint64_t kBacklog = 2000;
  RunningBroker fixture(faithful_options());
  Client client(fixture.broker.address());
  const std::string topic = "/default/lagging";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));

  publish(client, producer, topic, kBacklog);
  const auto window = reader.take(kWindow);
  BOOST_TEST(offsets_of(window) == offset_range(0, kWindow), boost::test_tools::per_element());
  // The dispatcher has not read since the window filled, so it has not noticed the lag yet.
  auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->in_flight == kWindow);
  BOOST_TEST(snapshot->skipped_by_lag == 0U);
  BOOST_TEST(snapshot->live_tail);

  // Now the consumer catches up: acking frees the window and the next read finds the tail gone.
  ack_all(client, window, "s");
  const auto rest = take_acking(reader, client, "s", kTail);
  require_settled(fixture.broker, topic, "s", kBacklog, kWindow + kTail);
  BOOST_TEST(reader.total() == kWindow + kTail);

  const std::uint64_t lost = kBacklog - kWindow - kTail;
  BOOST_TEST(lost == 1734U);
  BOOST_TEST(offsets_of(rest) == offset_range(kBacklog - kTail, kBacklog),
             boost::test_tools::per_element());
  BOOST_TEST(rest.front().msg_id().topic_offset() == 1744U);
  BOOST_TEST(rest.front().payload() == "m1744");
  const auto counters = *fixture.broker.counters(topic);
  BOOST_TEST(counters.skipped_by_lag == lost);
  BOOST_TEST(counters.acked == kWindow + kTail);
  BOOST_TEST(counters.redelivered == 0U);
  snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->skipped_by_lag == lost);
  BOOST_TEST(snapshot->skipped == (std::vector<OffsetRange>{{kWindow, 1744}}),
             boost::test_tools::per_element());
  BOOST_TEST_MESSAGE("danube_0_15, W=10, 2000 published without acks: received 0..9 and "
                     << rest.front().msg_id().topic_offset() << ".."
                     << rest.back().msg_id().topic_offset() << ", skipped_by_lag "
                     << counters.skipped_by_lag);
}

// (b) Keeping the backlog below W + 256 prevents every loss. The publisher paces itself on the
// broker's counters (what "pace our own sources" means), which makes the result deterministic.
BOOST_AUTO_TEST_CASE(prompt_acker_loses_nothing) {
  constexpr std::uint64_t kCount = 2000;
  constexpr std::uint64_t kMaxLead = 200;  // published - acked, below W + 256
  RunningBroker fixture(faithful_options());
  Client producer_client(fixture.broker.address());
  Client consumer_client(fixture.broker.address());
  const std::string topic = "/default/prompt";
  const auto producer = producer_client.producer(topic, "p", true);
  const auto consumer = consumer_client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(consumer_client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));

  // Boost.Test assertions are not thread-safe: the acker only records what it saw.
  std::vector<std::uint64_t> received;
  grpc::Status ack_failure;
  std::thread acker([&] {
    while (received.size() < kCount && ack_failure.ok()) {
      const auto message = reader.next();
      if (!message) break;
      received.push_back(message->msg_id().topic_offset());
      ack_failure = consumer_client.ack(*message, "s");
    }
  });
  bool paced = true;
  for (std::uint64_t i = 0; i < kCount && paced; ++i) {
    paced = fixture.broker.wait_for_counters(
        topic, [&](const TopicCounters& c) { return c.published - c.acked < kMaxLead; }, kWait);
    if (paced) producer_client.send_ok(producer, topic, "m" + std::to_string(i));
  }
  acker.join();
  BOOST_REQUIRE(paced);
  BOOST_REQUIRE_MESSAGE(ack_failure.ok(), "Ack failed: " << ack_failure.error_message());
  BOOST_TEST(received == offset_range(0, kCount), boost::test_tools::per_element());
  const auto counters = *fixture.broker.counters(topic);
  BOOST_TEST(counters.skipped_by_lag == 0U);
  BOOST_TEST(counters.acked == kCount);
  const auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->skipped.empty());
  BOOST_TEST(snapshot->cursor == kCount);
}

// (c) The consumer holds a full window, goes away, the rest of 1000 is published, it comes back:
// the window is re-sent, then only the newest 256 follow.
BOOST_AUTO_TEST_CASE(consumer_down_during_publishes_loses_all_but_window_and_newest_256) {
  constexpr std::uint64_t kPublished = 1000;
  RunningBroker fixture(faithful_options());
  Client client(fixture.broker.address());
  const std::string topic = "/default/outage";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  std::vector<danube::StreamMessage> first;
  {
    StreamReader reader(client, consumer);
    BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
    publish(client, producer, topic, kWindow);
    first = reader.take(kWindow);
  }  // the stream is cancelled with the window unacked
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 0));
  publish(client, producer, topic, kPublished - kWindow, "m", kWindow);
  // No consumer, no reads: nothing skipped yet, nothing dispatched past the window.
  auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->next_offset == kWindow);
  BOOST_TEST(snapshot->skipped_by_lag == 0U);

  StreamReader reader(client, consumer);
  const auto again = reader.take(kWindow);
  BOOST_TEST(offsets_of(again) == offsets_of(first), boost::test_tools::per_element());
  ack_all(client, again, "s");
  const auto rest = take_acking(reader, client, "s", kTail);
  require_settled(fixture.broker, topic, "s", kPublished, 2 * kWindow + kTail);
  BOOST_TEST(reader.total() == kWindow + kTail);

  const std::uint64_t lost = kPublished - kWindow - kTail;
  BOOST_TEST(lost == 734U);
  BOOST_TEST(offsets_of(rest) == offset_range(kPublished - kTail, kPublished),
             boost::test_tools::per_element());
  const auto counters = *fixture.broker.counters(topic);
  BOOST_TEST(counters.skipped_by_lag == lost);
  BOOST_TEST(counters.redelivered == kWindow);
  snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->skipped == (std::vector<OffsetRange>{{kWindow, kPublished - kTail}}),
             boost::test_tools::per_element());
  BOOST_TEST_MESSAGE("danube_0_15, W=10, window held and 990 more published while down: lost "
                     << counters.skipped_by_lag << " (offsets " << kWindow << ".."
                     << kPublished - kTail - 1 << ")");
}

// (c) The document's other measurement: a consumer with nothing in flight is down while 1000 are
// published; with nothing read during the outage it gets only the newest 256 (744 lost).
BOOST_AUTO_TEST_CASE(consumer_down_with_an_empty_window_keeps_only_the_newest_256) {
  constexpr std::uint64_t kBefore = 5;
  constexpr std::uint64_t kOutage = 1000;
  RunningBroker fixture(faithful_options());
  Client client(fixture.broker.address());
  const std::string topic = "/default/idle-outage";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  {
    StreamReader reader(client, consumer);
    BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
    publish(client, producer, topic, kBefore);
    ack_all(client, reader.take(kBefore), "s");
  }
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 0));
  publish(client, producer, topic, kOutage, "m", kBefore);

  // Coming back with a new Subscribe (same consumer, same id) continues the same live tail.
  BOOST_TEST(client.consumer(topic, "c", "s", SubType::exclusive) == consumer);
  StreamReader reader(client, consumer);
  const auto rest = take_acking(reader, client, "s", kTail);
  const std::uint64_t end = kBefore + kOutage;
  require_settled(fixture.broker, topic, "s", end, kBefore + kTail);
  BOOST_TEST(reader.total() == kTail);
  BOOST_TEST(offsets_of(rest) == offset_range(end - kTail, end), boost::test_tools::per_element());
  BOOST_TEST(fixture.broker.counters(topic)->skipped_by_lag == kOutage - kTail);
  BOOST_TEST(fixture.broker.subscription(topic, "s")->skipped ==
                 (std::vector<OffsetRange>{{kBefore, end - kTail}}),
             boost::test_tools::per_element());
}

// (d) Skipped offsets count as not acked: the cursor stays at the gap for good, the acks past
// it pile up, acks for skipped offsets are answered OK and ignored, and it is the gap that is
// persisted.
BOOST_AUTO_TEST_CASE(cursor_stays_at_the_gap) {
  constexpr std::uint64_t kBacklog = 300;
  constexpr std::uint64_t kGapEnd = kBacklog - kTail;  // 44
  TempDir dir;
  RunningBroker fixture(persistent_faithful_options(dir));
  Client client(fixture.broker.address());
  const std::string topic = "/default/gap";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  publish(client, producer, topic, kBacklog);
  const auto window = reader.take(kWindow);
  ack_all(client, window, "s");
  const auto rest = take_acking(reader, client, "s", kTail);
  require_settled(fixture.broker, topic, "s", kBacklog, kWindow + kTail);
  BOOST_TEST(rest.front().msg_id().topic_offset() == kGapEnd);

  auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->skipped == (std::vector<OffsetRange>{{kWindow, kGapEnd}}),
             boost::test_tools::per_element());
  BOOST_TEST(snapshot->cursor == kWindow);
  BOOST_TEST(snapshot->acked_beyond_cursor == kTail);
  BOOST_REQUIRE(wait_persisted(fixture.broker, topic, "s", kWindow));

  // An ack and a nack for a skipped offset: OK, ignored, as Danube answers them.
  auto skipped = window.front();
  skipped.mutable_msg_id()->set_topic_offset(20);
  BOOST_TEST(client.ack(skipped, "s").ok());
  BOOST_TEST(client.nack(skipped, "s").ok());
  publish(client, producer, topic, 5, "m", kBacklog);
  take_acking(reader, client, "s", 5);
  require_settled(fixture.broker, topic, "s", kBacklog + 5, kWindow + kTail + 5);
  snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->cursor == kWindow);
  BOOST_TEST(snapshot->acked_beyond_cursor == kTail + 5);
  BOOST_TEST(fixture.broker.counters(topic)->acked == kWindow + kTail + 5);
  BOOST_TEST(fixture.broker.counters(topic)->redelivered == 0U);
}

// (e) cluster_like: after a restart a subscription replays the old entries from its persisted
// cursor with their old offsets, and new messages are numbered from 0 again.
BOOST_AUTO_TEST_CASE(cluster_like_restart_replays_old_offsets_then_numbers_new_ones_from_zero) {
  TempDir dir;
  const std::string topic = "/default/cluster";
  {
    RunningBroker first(persistent_faithful_options(dir));
    Client client(first.broker.address());
    const auto producer = client.producer(topic, "p", true);
    const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
    StreamReader reader(client, consumer);
    BOOST_REQUIRE(wait_connected(first.broker, topic, "s", 1));
    publish(client, producer, topic, 20);
    const auto window = reader.take(kWindow);
    ack_all(client, std::vector<danube::StreamMessage>(window.begin(), window.begin() + 5), "s");
    BOOST_REQUIRE(wait_persisted(first.broker, topic, "s", 5));
  }
  RunningBroker second(persistent_faithful_options(dir));
  auto snapshot = second.broker.subscription(topic, "s");
  BOOST_REQUIRE(snapshot.has_value());
  BOOST_TEST(snapshot->cursor == 5U);
  BOOST_TEST(*snapshot->persisted_cursor == 5U);
  BOOST_TEST(!snapshot->live_tail);  // it replays the log first

  Client client(second.broker.address());
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  const auto replayed = take_acking(reader, client, "s", 15);
  BOOST_TEST(offsets_of(replayed) == offset_range(5, 20), boost::test_tools::per_element());
  BOOST_TEST(replayed.front().payload() == "m5");
  BOOST_TEST(replayed.back().payload() == "m19");

  const auto producer = client.producer(topic, "p", true);
  publish(client, producer, topic, 3, "new");
  const auto fresh = take_acking(reader, client, "s", 3);
  BOOST_TEST(offsets_of(fresh) == offset_range(0, 3), boost::test_tools::per_element());
  BOOST_TEST(fresh.front().payload() == "new0");
  require_settled(second.broker, topic, "s", 3, 18);
  snapshot = second.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->cursor == 3U);  // the offset after "new2"
  BOOST_TEST(snapshot->live_tail);
  BOOST_TEST(snapshot->skipped.empty());
  BOOST_REQUIRE(wait_persisted(second.broker, topic, "s", 3));
}

// Cursors are written when they advance, at most every cursor_persist_interval, never at
// shutdown; a subscription that never acked is not persisted at all.
BOOST_AUTO_TEST_CASE(cursor_persistence_is_throttled_and_skipped_at_shutdown) {
  TempDir dir;
  auto options = persistent_faithful_options(dir);
  options.cursor_persist_interval = std::chrono::hours(1);
  const std::string topic = "/default/throttled";
  {
    RunningBroker first(options);
    Client client(first.broker.address());
    const auto producer = client.producer(topic, "p", true);
    const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
    client.consumer(topic, "idle", "never-acks", SubType::exclusive);
    StreamReader reader(client, consumer);
    BOOST_REQUIRE(wait_connected(first.broker, topic, "s", 1));
    publish(client, producer, topic, 10);
    const auto window = reader.take(kWindow);
    // One ack first: several acks may reach the broker one by one, and only the first advance
    // is written within the hour.
    ack_all(client, std::vector<danube::StreamMessage>(window.begin(), window.begin() + 1), "s");
    BOOST_REQUIRE(wait_persisted(first.broker, topic, "s", 1));  // the first advance is written
    ack_all(client, std::vector<danube::StreamMessage>(window.begin() + 1, window.end()), "s");
    BOOST_TEST(first.broker.subscription(topic, "s")->cursor == 10U);
    BOOST_TEST((first.broker.subscription(topic, "s")->persisted_cursor == 1U));
  }
  RunningBroker second(options);
  BOOST_TEST(second.broker.subscription(topic, "s")->cursor == 1U);
  BOOST_TEST(!second.broker.subscription(topic, "never-acks").has_value());
  // The entries acked after the last write come again (duplicates, as with Danube).
  Client client(second.broker.address());
  StreamReader reader(client, client.consumer(topic, "c", "s", SubType::exclusive));
  BOOST_TEST(offsets_of(reader.take(9)) == offset_range(1, 10), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(ack_and_nack_for_an_unknown_topic_are_internal) {
  RunningBroker fixture(faithful_options());
  Client client(fixture.broker.address());
  danube::StreamMessage message;
  message.mutable_msg_id()->set_topic_name("/default/nobody-made-this");
  message.mutable_msg_id()->set_topic_offset(0);
  BOOST_TEST(client.ack(message, "s").error_code() == StatusCode::INTERNAL);
  BOOST_TEST(client.nack(message, "s").error_code() == StatusCode::INTERNAL);
}

// (f) Lossless mode (the default) with workload (a): everything arrives.
BOOST_AUTO_TEST_CASE(lossless_mode_delivers_the_whole_backlog) {
  constexpr std::uint64_t kBacklog = 2000;
  auto options = fast_options();
  options.max_unacked_messages = kWindow;
  BOOST_TEST((options.dispatch_fidelity == DispatchFidelity::lossless));
  RunningBroker fixture(options);
  Client client(fixture.broker.address());
  const std::string topic = "/default/lossless";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  publish(client, producer, topic, kBacklog);
  const auto window = reader.take(kWindow);
  ack_all(client, window, "s");
  const auto rest = take_acking(reader, client, "s", kBacklog - kWindow);
  require_settled(fixture.broker, topic, "s", kBacklog, kBacklog);
  BOOST_TEST(offsets_of(rest) == offset_range(kWindow, kBacklog), boost::test_tools::per_element());
  BOOST_TEST(fixture.broker.counters(topic)->skipped_by_lag == 0U);
  const auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_TEST(snapshot->cursor == kBacklog);
  BOOST_TEST(snapshot->skipped.empty());
  BOOST_TEST(!snapshot->live_tail);  // lossless mode leaves the danube_0_15 fields empty
  BOOST_TEST(!snapshot->persisted_cursor.has_value());
}

// The log behind cluster_like: positions stay unique while offsets restart at each reopening.
BOOST_AUTO_TEST_CASE(message_log_restarts_offsets_but_not_positions) {
  using internal::MessageLog;
  TempDir dir;
  const auto file = dir.path() / "log";
  const auto options = [&](bool restart) {
    MessageLog::Options result{file, FsyncPolicy::never, 0};
    result.restart_offsets = restart;
    return result;
  };
  const auto append = [](MessageLog& log, const std::string& payload) {
    danube::StreamMessage message;
    message.set_payload(payload);
    return log.append(message).offset.value_or(999);
  };
  {
    auto log = MessageLog::open(options(true), 0);  // nothing to recover: offsets as usual
    BOOST_TEST(!log->offsets_repeat());
    for (int i = 0; i < 3; ++i)
      BOOST_TEST(append(*log, "a" + std::to_string(i)) == static_cast<std::uint64_t>(i));
  }
  {
    auto log = MessageLog::open(options(true), 0);
    BOOST_TEST(log->offsets_repeat());
    BOOST_TEST(log->end_position() == 3U);
    BOOST_TEST(append(*log, "b0") == 0U);
    BOOST_TEST(log->read(3)->payload() == "b0");
    BOOST_TEST(log->offset_of(2) == 2U);
    BOOST_TEST(log->offset_of(3) == 0U);
  }
  {
    auto log = MessageLog::open(options(true), 1);  // two sequences recovered, a third begins
    BOOST_TEST(log->end_position() == 4U);
    BOOST_TEST(log->read(0) == nullptr);  // below keep_from
    BOOST_TEST(log->read(1)->msg_id().topic_offset() == 1U);
    BOOST_TEST(log->read(3)->msg_id().topic_offset() == 0U);
    BOOST_TEST(append(*log, "c0") == 0U);
  }
  auto log = MessageLog::open(options(false), 0);  // not cluster-like: the last sequence goes on
  BOOST_TEST(log->end_position() == 5U);
  BOOST_TEST(log->read(4)->payload() == "c0");
  BOOST_TEST(append(*log, "c1") == 1U);
  BOOST_TEST(log->offset_of(5) == 1U);
}

}  // namespace
}  // namespace danube::testkit::test
