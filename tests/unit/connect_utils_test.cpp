// Backoff, Batcher, HealthChecker and HealthState.
#include <atomic>
#include <boost/test/unit_test.hpp>
#include <thread>

#include "danube/connect/backoff.hpp"
#include "danube/connect/batcher.hpp"
#include "danube/connect/health_checker.hpp"
#include "danube/connect/health_state.hpp"
#include "test_support.hpp"

using namespace danube::connect;
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
  Backoff backoff(settings);
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

BOOST_AUTO_TEST_SUITE(batcher)

BOOST_AUTO_TEST_CASE(flushes_at_max_records) {
  Batcher<int> batcher(3, 1h);
  BOOST_TEST(!batcher.add(1));
  BOOST_TEST(!batcher.add(2));
  BOOST_TEST(!batcher.take_ready().has_value());
  BOOST_TEST(batcher.add(3));
  const auto batch = batcher.take_ready();
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST((*batch == std::vector<int>{1, 2, 3}));
  BOOST_TEST(batcher.empty());
  for (int i = 0; i < 7; ++i)
    batcher.add(i);
  BOOST_TEST(batcher.take_ready()->size() == 3u);
  BOOST_TEST(batcher.take_ready()->size() == 3u);
  BOOST_TEST(!batcher.take_ready().has_value());  // one item left, linger not reached
  BOOST_TEST(batcher.size() == 1u);
  BOOST_TEST(batcher.take_any()->size() == 1u);
  BOOST_TEST(!batcher.take_any().has_value());
}

BOOST_AUTO_TEST_CASE(flushes_at_max_bytes_without_exceeding_it) {
  Batcher<std::string> batcher(100, 1h, 10, [](const std::string& s) { return s.size(); });
  BOOST_TEST(!batcher.add("aaaa"));
  BOOST_TEST(!batcher.add("bbbb"));
  BOOST_TEST(batcher.bytes() == 8u);
  BOOST_TEST(batcher.add("cccc"));  // 12 bytes would exceed 10: the first two go out alone
  const auto first = batcher.take_ready();
  BOOST_TEST((*first == std::vector<std::string>{"aaaa", "bbbb"}));
  BOOST_TEST(batcher.bytes() == 4u);
  BOOST_TEST(batcher.add("dddddd"));  // exactly 10: ready
  BOOST_TEST((*batcher.take_ready() == std::vector<std::string>{"cccc", "dddddd"}));
  BOOST_TEST(batcher.add(std::string(50, 'x')));  // larger than the bound: a batch of its own
  BOOST_TEST(batcher.take_ready()->size() == 1u);
  BOOST_TEST(batcher.bytes() == 0u);
}

BOOST_AUTO_TEST_CASE(linger_is_measured_from_the_first_item) {
  Batcher<int> batcher(10, 100ms);
  BOOST_TEST(!batcher.next_deadline().has_value());
  BOOST_TEST(!batcher.should_flush());  // empty never flushes (the seed's idle quirk)
  const auto before = std::chrono::steady_clock::now();
  batcher.add(1);
  const auto deadline = batcher.next_deadline();
  BOOST_REQUIRE(deadline.has_value());
  const bool deadline_is_linger_after_add = *deadline >= before + 100ms;
  BOOST_TEST(deadline_is_linger_after_add);
  batcher.add(2);
  BOOST_TEST((batcher.next_deadline() == deadline));  // later items do not extend it
  BOOST_TEST(!batcher.take_ready(*deadline - 1ms).has_value());
  BOOST_TEST(batcher.should_flush(*deadline));
  const auto batch = batcher.take_ready(*deadline);
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST(batch->size() == 2u);
}

BOOST_AUTO_TEST_CASE(time_flush_fires_without_new_input) {
  Batcher<int> batcher(1000, 30ms);
  batcher.add(7);
  // Nothing else is added: the waiting consumer still gets the partial batch once it is due.
  const auto batch = batcher.wait_ready(10s);
  BOOST_REQUIRE(batch.has_value());
  BOOST_TEST((*batch == std::vector<int>{7}));
  BOOST_TEST(batcher.empty());
}

BOOST_AUTO_TEST_CASE(time_flush_wakes_a_consumer_that_started_waiting_first) {
  Batcher<int> batcher(1000, 30ms);
  std::optional<std::vector<int>> received;
  std::thread consumer([&] { received = batcher.wait_ready(10s); });
  batcher.add(1);
  batcher.add(2);
  consumer.join();
  BOOST_REQUIRE(received.has_value());
  BOOST_TEST(received->size() == 2u);
}

BOOST_AUTO_TEST_CASE(wait_ready_times_out_when_empty_and_close_releases_the_rest) {
  Batcher<int> batcher(10, 1h);
  BOOST_TEST(!batcher.wait_ready(5ms).has_value());
  batcher.add(1);
  std::optional<std::vector<int>> received;
  std::thread consumer([&] { received = batcher.wait_ready(std::chrono::hours(1)); });
  batcher.close();
  consumer.join();
  BOOST_REQUIRE(received.has_value());
  BOOST_TEST(received->size() == 1u);
  BOOST_TEST(!batcher.wait_ready(std::chrono::hours(1)).has_value());  // closed and empty
}

BOOST_AUTO_TEST_CASE(concurrent_producers_lose_nothing) {
  Batcher<int> batcher(64, 5ms);
  constexpr int kProducers = 4;
  constexpr int kEach = 1000;
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&batcher, p] {
      for (int i = 0; i < kEach; ++i)
        batcher.add(p * kEach + i);
    });
  }
  std::vector<int> seen;
  bool bounded = true;
  while (seen.size() < static_cast<std::size_t>(kProducers * kEach)) {
    if (auto batch = batcher.wait_ready(10s)) {
      bounded = bounded && batch->size() <= 64;
      seen.insert(seen.end(), batch->begin(), batch->end());
    }
  }
  for (auto& producer : producers)
    producer.join();
  std::sort(seen.begin(), seen.end());
  bool exact = seen.size() == static_cast<std::size_t>(kProducers * kEach);
  for (std::size_t i = 0; exact && i < seen.size(); ++i)
    exact = seen[i] == static_cast<int>(i);
  BOOST_TEST(exact);
  BOOST_TEST(bounded);
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
