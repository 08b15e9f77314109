// Backoff, BoundedQueue, HealthChecker and HealthState.
#include <algorithm>
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <future>
#include <thread>

#include "danube/common/backoff.hpp"
#include "danube/common/bounded_queue.hpp"
#include "danube/connect/config.hpp"
#include "danube/services/health_checker.hpp"
#include "danube/services/health_state.hpp"
#include "test_support.hpp"

using namespace danube::connect;
using namespace danube::services;
using danube::Backoff;
using namespace std::chrono_literals;
using std::chrono::milliseconds;

BOOST_AUTO_TEST_SUITE(backoff)

BOOST_AUTO_TEST_CASE(seed_formula_without_jitter) {
  Backoff backoff(1000ms, 30000ms, 2.0, false, 3);
  BOOST_TEST(backoff.delay(0).count() == 0);
  const long expected[] = {1000, 2000, 4000, 8000, 16000, 30000, 30000};
  for (std::uint32_t attempt = 1; attempt <= 7; ++attempt) {
    BOOST_TEST(backoff.delay(attempt).count() == expected[attempt - 1]);
    BOOST_TEST(backoff.nominal_delay(attempt).count() == expected[attempt - 1]);
  }
  BOOST_TEST(backoff.delay(1000).count() == 30000);  // saturates instead of overflowing
}

BOOST_AUTO_TEST_CASE(multiplier_is_configurable) {
  Backoff backoff(100ms, 10000ms, 3.0, false, 5);
  BOOST_TEST(backoff.delay(1).count() == 100);
  BOOST_TEST(backoff.delay(2).count() == 300);
  BOOST_TEST(backoff.delay(3).count() == 900);
  Backoff linear(100ms, 10000ms, 1.0, false, 5);
  BOOST_TEST(linear.delay(4).count() == 100);
}

BOOST_AUTO_TEST_CASE(jitter_stays_in_half_to_one_and_a_half_and_under_the_cap) {
  Backoff backoff(1000ms, 30000ms, 2.0, true, 3);
  backoff.seed(42);
  for (std::uint32_t attempt = 1; attempt <= 8; ++attempt) {
    const double nominal = static_cast<double>(backoff.nominal_delay(attempt).count());
    long lowest = std::numeric_limits<long>::max();
    long highest = 0;
    for (int sample = 0; sample < 2000; ++sample) {
      const long delay = backoff.delay(attempt).count();
      lowest = std::min(lowest, delay);
      highest = std::max(highest, delay);
      BOOST_TEST(delay >= static_cast<long>(nominal * 0.5) - 1);
      BOOST_TEST(delay < static_cast<long>(nominal * 1.5) + 1);
      BOOST_TEST(delay <= 30000);
    }
    // The jitter is really applied: the samples spread over most of the range.
    BOOST_TEST(lowest < static_cast<long>(nominal * 0.6));
    if (nominal * 1.5 <= 30000) {
      BOOST_TEST(highest > static_cast<long>(nominal * 1.4));
    } else {
      BOOST_TEST(highest == 30000);  // capped again after the jitter
    }
  }
}

BOOST_AUTO_TEST_CASE(seeding_makes_jitter_reproducible) {
  Backoff a(1000ms, 30000ms);
  Backoff b(1000ms, 30000ms);
  a.seed(7);
  b.seed(7);
  for (std::uint32_t attempt = 1; attempt < 20; ++attempt) {
    BOOST_TEST(a.delay(attempt).count() == b.delay(attempt).count());
  }
}

BOOST_AUTO_TEST_CASE(retry_budget_and_settings) {
  RetrySettings settings;
  settings.max_retries = 2;
  settings.retry_backoff_ms = 50;
  settings.max_backoff_ms = 400;
  settings.multiplier = 4.0;
  settings.jitter = false;
  Backoff backoff(settings.backoff_policy());
  BOOST_TEST(backoff.should_retry(0));
  BOOST_TEST(backoff.should_retry(1));
  BOOST_TEST(!backoff.should_retry(2));
  BOOST_TEST(backoff.delay(1).count() == 50);
  BOOST_TEST(backoff.delay(2).count() == 200);
  BOOST_TEST(backoff.delay(3).count() == 400);
  BOOST_TEST(backoff.max_retries() == 2u);
  BOOST_TEST(!backoff.jitter());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(bounded_queue)

std::size_t length_of(const std::string& text) {
  return text.size();
}

BOOST_AUTO_TEST_CASE(bounds_items_and_bytes_but_admits_a_big_item_into_an_empty_queue) {
  danube::BoundedQueue<std::string> queue(3, 10, length_of);
  BOOST_TEST((queue.push_for("0123456789ABC", 0ms) == danube::SendStatus::sent));  // 13 > 10
  BOOST_TEST((queue.push_for("x", 0ms) == danube::SendStatus::timed_out));         // bytes full
  BOOST_TEST(queue.try_pop(5).size() == 1u);
  BOOST_TEST((queue.push_for("aaaa", 0ms) == danube::SendStatus::sent));
  BOOST_TEST((queue.push_for("bbbb", 0ms) == danube::SendStatus::sent));
  BOOST_TEST((queue.push_for("ccc", 0ms) == danube::SendStatus::timed_out));  // 11 > 10
  BOOST_TEST((queue.push_for("cc", 0ms) == danube::SendStatus::sent));
  BOOST_TEST((queue.push_for("", 0ms) == danube::SendStatus::timed_out));  // 3 items
  BOOST_TEST(queue.size() == 3u);
  BOOST_TEST(queue.bytes() == 10u);
}

BOOST_AUTO_TEST_CASE(close_fails_waiting_pushes_keeps_items_and_signals_ready_once) {
  danube::BoundedQueue<std::string> queue(1, 0, length_of);
  int ready_calls = 0;
  queue.set_ready_callback([&] { ++ready_calls; });
  BOOST_TEST((queue.push("a") == danube::SendStatus::sent));
  BOOST_TEST(ready_calls == 1);
  auto blocked = std::async(std::launch::async, [&] { return queue.push("b"); });
  BOOST_TEST((blocked.wait_for(20ms) == std::future_status::timeout));
  queue.close();
  BOOST_TEST((blocked.get() == danube::SendStatus::closed));
  BOOST_TEST(ready_calls == 2);
  queue.close();
  BOOST_TEST(ready_calls == 2);
  BOOST_TEST(!queue.is_drained());
  BOOST_TEST(queue.pop_for(10, std::chrono::minutes(5)).size() == 1u);
  BOOST_TEST(queue.is_drained());
  BOOST_TEST(queue.pop_for(10, std::chrono::minutes(5)).empty());  // closed: no waiting
}

BOOST_AUTO_TEST_CASE(wait_for_room_then_push_now_lets_a_reader_wait_before_fetching) {
  danube::BoundedQueue<std::string> queue(1, 0, length_of);
  BOOST_TEST(queue.wait_for_room());
  queue.push_now("first");
  auto waiting = std::async(std::launch::async, [&] { return queue.wait_for_room(); });
  BOOST_TEST((waiting.wait_for(20ms) == std::future_status::timeout));
  BOOST_TEST(queue.try_pop(1).size() == 1u);
  BOOST_TEST(waiting.get());
  queue.close();
  BOOST_TEST(!queue.wait_for_room());
  queue.push_now("fetched before close");  // still readable
  BOOST_TEST(queue.try_pop(5).size() == 1u);
}

BOOST_AUTO_TEST_CASE(many_producers_lose_nothing_and_respect_the_bound) {
  danube::BoundedQueue<int> queue(64, 0, [](const int&) { return std::size_t{1}; });
  constexpr int kProducers = 4;
  constexpr int kEach = 1000;
  std::atomic<int> refused{0};
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&queue, &refused, p] {
      for (int i = 0; i < kEach; ++i) {
        if (queue.push(p * kEach + i) != danube::SendStatus::sent) ++refused;
      }
    });
  }
  std::vector<int> seen;
  bool bounded = true;
  while (seen.size() < static_cast<std::size_t>(kProducers * kEach)) {
    bounded = bounded && queue.size() <= 64;
    const auto batch = queue.pop_for(16, 10s);
    seen.insert(seen.end(), batch.begin(), batch.end());
  }
  for (auto& producer : producers)
    producer.join();
  std::sort(seen.begin(), seen.end());
  bool exact = seen.size() == static_cast<std::size_t>(kProducers * kEach);
  for (std::size_t i = 0; exact && i < seen.size(); ++i)
    exact = seen[i] == static_cast<int>(i);
  BOOST_TEST(exact);
  BOOST_TEST(bounded);
  BOOST_TEST(refused.load() == 0);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(health)

BOOST_AUTO_TEST_CASE(checker_thresholds) {
  HealthChecker checker(3);
  BOOST_TEST((checker.status() == HealthStatus::healthy));
  BOOST_TEST(!checker.time_since_last_failure().has_value());
  BOOST_TEST((checker.record_failure() == HealthStatus::degraded));
  BOOST_TEST((checker.record_failure() == HealthStatus::degraded));
  BOOST_TEST(checker.consecutive_failures() == 2u);
  BOOST_TEST((checker.record_failure() == HealthStatus::unhealthy));
  BOOST_TEST((checker.status() == HealthStatus::unhealthy));
  BOOST_TEST(!checker.is_healthy());
  BOOST_TEST((checker.record_failure() == HealthStatus::unhealthy));
  checker.record_success();
  BOOST_TEST((checker.status() == HealthStatus::healthy));
  BOOST_TEST(checker.consecutive_failures() == 0u);
  BOOST_TEST(checker.time_since_last_success().has_value());
  BOOST_TEST(checker.time_since_last_failure().has_value());
  BOOST_TEST((checker.record_failure() == HealthStatus::degraded));  // the count restarted

  HealthChecker strict(1);
  BOOST_TEST((strict.record_failure() == HealthStatus::unhealthy));
  HealthChecker zero(0);  // treated as 1
  BOOST_TEST(zero.failure_threshold() == 1u);
  BOOST_TEST(to_string(HealthStatus::degraded) == "degraded");
}

BOOST_AUTO_TEST_CASE(state_liveness_and_readiness) {
  HealthState state("orders");
  auto snapshot = state.snapshot();
  BOOST_TEST(snapshot.connector == "orders");
  BOOST_TEST(snapshot.live());
  BOOST_TEST(!snapshot.ready());  // not started, not connected
  state.set_started(true);
  BOOST_TEST(!state.ready());
  state.set_connected(true);
  BOOST_TEST(state.ready());
  state.set_status(HealthStatus::degraded, "health check failed once");
  BOOST_TEST(state.ready());  // degraded still serves
  BOOST_TEST(state.snapshot().detail == "health check failed once");
  state.set_status(HealthStatus::unhealthy, "3 failures");
  BOOST_TEST(!state.live());
  BOOST_TEST(!state.ready());
  state.set_status(HealthStatus::healthy);
  BOOST_TEST(state.ready());
  state.set_connected(false);
  BOOST_TEST(state.live());
  BOOST_TEST(!state.ready());
  state.set_connected(true);
  state.mark_failed("fatal: disk gone");
  BOOST_TEST(!state.live());
  state.set_status(HealthStatus::healthy, "ignored while failed");
  BOOST_TEST(state.snapshot().detail == "fatal: disk gone");
  state.clear_failed();
  BOOST_TEST(state.ready());
  state.set_stopping(true);
  BOOST_TEST(state.live());
  BOOST_TEST(!state.ready());
}

BOOST_AUTO_TEST_SUITE_END()
