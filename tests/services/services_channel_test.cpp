// EnvelopeChannel and SourceSender: bounded, closable, multi-producer, with backpressure.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <future>
#include <map>
#include <thread>

#include "danube/connect/error.hpp"
#include "danube/services/envelope_channel.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;
using namespace std::chrono_literals;
using danube::connect::test::eventually;

namespace {

SourceEnvelope envelope(const std::string& text, std::uint64_t offset = 0) {
  return SourceEnvelope(SourceRecord::from_string("/default/t", text), Offset("p", offset));
}

}  // namespace

BOOST_AUTO_TEST_CASE(fifo_order_and_bounded_takes) {
  auto channel = EnvelopeChannel::create(10);
  for (int i = 0; i < 5; ++i)
    BOOST_TEST((channel->send(envelope(std::to_string(i))) == SendStatus::sent));
  BOOST_TEST(channel->size() == 5u);
  auto first = channel->try_receive(3);
  BOOST_TEST(first.size() == 3u);
  BOOST_TEST(first[0].record.payload().str() == "0");
  BOOST_TEST(first[2].record.payload().str() == "2");
  auto rest = channel->try_receive(10);
  BOOST_TEST(rest.size() == 2u);
  BOOST_TEST(rest[1].record.payload().str() == "4");
  BOOST_TEST(channel->try_receive(10).empty());
  BOOST_TEST(channel->queued_bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(send_blocks_while_full_until_the_receiver_takes) {
  auto channel = EnvelopeChannel::create(2);
  auto sender = channel->sender();
  BOOST_TEST(sender.send(envelope("a")));
  BOOST_TEST(sender.send(envelope("b")));
  BOOST_TEST((sender.send_for(envelope("x"), 10ms) == SendStatus::timed_out));

  std::atomic<bool> third_sent{false};
  std::thread producer([&] {
    sender.send(envelope("c"));
    third_sent = true;
  });
  // Full: the producer cannot have finished (there is no room for "c").
  BOOST_TEST(channel->size() == 2u);
  BOOST_TEST(!third_sent.load());
  BOOST_TEST(channel->try_receive(1).size() == 1u);
  BOOST_TEST(eventually([&] { return third_sent.load(); }));
  producer.join();
  const auto remaining = channel->try_receive(10);
  BOOST_TEST(remaining.size() == 2u);
  BOOST_TEST(remaining[1].record.payload().str() == "c");
}

BOOST_AUTO_TEST_CASE(close_wakes_blocked_senders_and_allows_draining) {
  auto channel = EnvelopeChannel::create(1);
  auto sender = channel->sender();
  BOOST_TEST(sender.send(envelope("kept")));
  auto blocked = std::async(std::launch::async, [&] { return sender.send(envelope("refused")); });
  BOOST_TEST((blocked.wait_for(0ms) == std::future_status::timeout));
  channel->close();
  BOOST_TEST(blocked.get() == false);
  BOOST_TEST(sender.is_closed());
  BOOST_TEST(!sender.send(envelope("late")));
  BOOST_TEST((channel->send_for(envelope("late"), 1s) == SendStatus::closed));
  BOOST_TEST(!channel->is_drained());
  const auto drained = channel->receive_for(10, 1s);
  BOOST_REQUIRE(drained.size() == 1u);
  BOOST_TEST(drained[0].record.payload().str() == "kept");
  BOOST_TEST(channel->is_drained());
  // Closed and empty: returns at once instead of waiting out the timeout.
  const auto started = std::chrono::steady_clock::now();
  BOOST_TEST(channel->receive_for(10, std::chrono::minutes(5)).empty());
  const bool returned_without_waiting =
      std::chrono::steady_clock::now() - started < std::chrono::minutes(1);
  BOOST_TEST(returned_without_waiting);
  channel->close();  // idempotent
}

BOOST_AUTO_TEST_CASE(send_or_throw_reports_a_closed_channel_as_fatal) {
  auto channel = EnvelopeChannel::create(4);
  auto sender = channel->sender();
  BOOST_CHECK_NO_THROW(sender.send_or_throw(envelope("ok")));
  channel->close();
  try {
    sender.send_or_throw(envelope("no"));
    BOOST_FAIL("expected a fatal error");
  } catch (const ConnectorError& e) {
    BOOST_TEST(e.is_fatal());
    BOOST_TEST(e.message().find("failed to emit source envelope") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(send_batch_counts_what_was_sent) {
  auto channel = EnvelopeChannel::create(8);
  auto sender = channel->sender();
  BOOST_TEST(sender.send_batch({envelope("1"), envelope("2"), envelope("3")}) == 3u);
  BOOST_TEST(channel->size() == 3u);
  channel->close();
  BOOST_TEST(sender.send_batch({envelope("4")}) == 0u);
}

BOOST_AUTO_TEST_CASE(receive_for_waits_for_a_sender) {
  auto channel = EnvelopeChannel::create(4);
  BOOST_TEST(channel->receive_for(4, 5ms).empty());
  auto sender = channel->sender();
  std::thread producer([sender] { sender.send(envelope("late")); });
  const auto received = channel->receive_for(4, 10s);
  producer.join();
  BOOST_REQUIRE(received.size() == 1u);
  BOOST_TEST(received[0].offset->value == 0u);
}

BOOST_AUTO_TEST_CASE(byte_capacity_bounds_queued_payloads) {
  const std::size_t payload = 100;
  const auto big = [&](char c) {
    return SourceEnvelope(SourceRecord::from_bytes("", std::string(payload, c)));
  };
  auto channel = EnvelopeChannel::create(100, 250);
  BOOST_TEST((channel->send_for(big('a'), 10ms) == SendStatus::sent));
  BOOST_TEST((channel->send_for(big('b'), 10ms) == SendStatus::sent));
  BOOST_TEST((channel->send_for(big('c'), 10ms) == SendStatus::timed_out));
  BOOST_TEST(channel->queued_bytes() == 2 * payload);
  channel->try_receive(2);
  // A single envelope larger than the bound still passes through an empty channel.
  BOOST_TEST(
      (channel->send_for(SourceEnvelope(SourceRecord::from_bytes("", std::string(1000, 'z'))),
                         10ms) == SendStatus::sent));
  BOOST_TEST((channel->send_for(big('d'), 10ms) == SendStatus::timed_out));
  BOOST_TEST(EnvelopeChannel::envelope_bytes(SourceEnvelope(
                 SourceRecord::from_string("/a/b", "xy").with_key("k").with_attribute("n", "v"))) ==
             2u + 4u + 1u + 2u);
}

BOOST_AUTO_TEST_CASE(readable_callback_fires_on_empty_to_non_empty_and_on_close) {
  auto channel = EnvelopeChannel::create(10);
  std::atomic<int> calls{0};
  channel->set_readable_callback([&] { ++calls; });
  BOOST_TEST(calls.load() == 0);
  channel->send(envelope("1"));
  BOOST_TEST(calls.load() == 1);
  channel->send(envelope("2"));  // still non-empty: no new notification
  BOOST_TEST(calls.load() == 1);
  channel->try_receive(10);
  channel->send(envelope("3"));
  BOOST_TEST(calls.load() == 2);
  channel->close();
  BOOST_TEST(calls.load() == 3);

  // Registering on a non-empty channel notifies at once, so nothing is missed.
  auto pending = EnvelopeChannel::create(10);
  pending->send(envelope("waiting"));
  std::atomic<int> late_calls{0};
  pending->set_readable_callback([&] { ++late_calls; });
  BOOST_TEST(late_calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(callback_can_drain_from_the_notifying_thread) {
  auto channel = EnvelopeChannel::create(10);
  std::vector<SourceEnvelope> drained;
  channel->set_readable_callback([&] {
    auto batch = channel->try_receive(10);
    drained.insert(drained.end(), batch.begin(), batch.end());
  });
  channel->send(envelope("a"));
  channel->send(envelope("b"));
  BOOST_TEST(drained.size() == 2u);
}

BOOST_AUTO_TEST_CASE(many_producers_one_consumer_loses_nothing) {
  constexpr int kProducers = 4;
  constexpr int kPerProducer = 2500;
  auto channel = EnvelopeChannel::create(64);
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([sender = channel->sender(), p] {
      for (int i = 0; i < kPerProducer; ++i) {
        sender.send(
            SourceEnvelope(SourceRecord::from_string("", std::to_string(i)),
                           Offset("producer-" + std::to_string(p), static_cast<std::uint64_t>(i))));
      }
    });
  }
  std::map<std::string, std::uint64_t> next_expected;
  int received = 0;
  bool in_order = true;
  while (received < kProducers * kPerProducer) {
    for (auto& item : channel->receive_for(32, 10s)) {
      auto& expected = next_expected[item.offset->partition];
      in_order = in_order && item.offset->value == expected;
      ++expected;
      ++received;
    }
  }
  for (auto& producer : producers)
    producer.join();
  BOOST_TEST(received == kProducers * kPerProducer);
  BOOST_TEST(in_order);
  BOOST_TEST(next_expected.size() == static_cast<std::size_t>(kProducers));
  BOOST_TEST(channel->size() == 0u);
}
