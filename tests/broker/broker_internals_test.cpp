// White-box tests of the broker's building blocks (no gRPC server involved).

#include <boost/test/unit_test.hpp>
#include <future>
#include <variant>

#include "broker_test_support.hpp"
#include "jwt.hpp"
#include "message_log.hpp"
#include "schema_compatibility.hpp"
#include "storage_files.hpp"
#include "subscription.hpp"
#include "timer_queue.hpp"

namespace danube::testkit::test {
namespace {

using namespace danube::testkit::internal;

BOOST_AUTO_TEST_CASE(crc32_matches_the_standard_check_value) {
  BOOST_TEST(crc32("123456789") == 0xCBF43926U);
  BOOST_TEST(crc32("") == 0U);
}

BOOST_AUTO_TEST_CASE(glob_matches_star_and_question_mark) {
  BOOST_TEST(glob_match("eu-*", "eu-paris"));
  BOOST_TEST(glob_match("eu-*", "eu-"));
  BOOST_TEST(!glob_match("eu-*", "us-paris"));
  BOOST_TEST(glob_match("*-1?", "us-12"));
  BOOST_TEST(!glob_match("us-?", "us-12"));
  BOOST_TEST(glob_match("*", ""));
  BOOST_TEST(glob_match("a*b*c", "axxbyyc"));
  BOOST_TEST(!glob_match("a*b*c", "axxbyy"));
  BOOST_TEST(glob_match("exact", "exact"));
}

BOOST_AUTO_TEST_CASE(jwt_verifier_accepts_good_and_rejects_bad_tokens) {
  const auto now = std::chrono::system_clock::now();
  const auto good = verify_hs256_jwt(make_jwt("k", valid_claims()), "k", now);
  BOOST_REQUIRE(std::holds_alternative<JwtClaims>(good));
  BOOST_TEST(std::get<JwtClaims>(good).subject == "test-service");
  BOOST_TEST(std::get<JwtClaims>(good).principal_type == "service_account");
  // Within the 60 s leeway an expired token still passes, beyond it not.
  BOOST_TEST(std::holds_alternative<JwtClaims>(
      verify_hs256_jwt(make_jwt("k", valid_claims(-30s)), "k", now)));
  BOOST_TEST(std::holds_alternative<std::string>(
      verify_hs256_jwt(make_jwt("k", valid_claims(-120s)), "k", now)));
  BOOST_TEST(std::holds_alternative<std::string>(
      verify_hs256_jwt(make_jwt("k", valid_claims()), "other", now)));
  BOOST_TEST(std::holds_alternative<std::string>(
      verify_hs256_jwt(make_jwt("k", R"({"exp":1e12})"), "k", now)));  // no sub
  BOOST_TEST(std::holds_alternative<std::string>(verify_hs256_jwt("a.b", "k", now)));
  BOOST_TEST(std::holds_alternative<std::string>(verify_hs256_jwt("a.b.c.d", "k", now)));
  BOOST_TEST(std::holds_alternative<std::string>(verify_hs256_jwt("!!.??.**", "k", now)));
}

BOOST_AUTO_TEST_CASE(sha256_hex_matches_a_known_digest) {
  BOOST_TEST(internal::sha256_hex("abc") ==
             "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

BOOST_AUTO_TEST_CASE(compatibility_rules_are_the_documented_ones) {
  const std::string old_schema = R"({"properties":{"a":{"type":"string"}},"required":["a"]})";
  const std::string new_required =
      R"({"properties":{"a":{"type":"string"},"b":{}},"required":["a","b"]})";
  BOOST_TEST(compatibility_problems("none", "avro", "", "json_schema", "").empty());
  BOOST_TEST(
      compatibility_problems("backward", "json_schema", old_schema, "json_schema", new_required)
          .size() == 1U);
  BOOST_TEST(
      compatibility_problems("forward", "json_schema", old_schema, "json_schema", new_required)
          .empty());
  BOOST_TEST(
      compatibility_problems("forward", "json_schema", old_schema, "json_schema", "{}").size() ==
      1U);
  BOOST_TEST(compatibility_problems("full", "bytes", "x", "bytes", "y").empty());
  BOOST_TEST(compatibility_problems("full", "bytes", "x", "string", "x").size() == 1U);
  BOOST_TEST(!invalid_definition_reason("json_schema", "[1,2]").empty());
  BOOST_TEST(invalid_definition_reason("protobuf", "anything").empty());
}

BOOST_AUTO_TEST_CASE(message_log_assigns_offsets_trims_and_recovers) {
  TempDir dir;
  const auto file = dir.path() / "log";
  {
    auto log = MessageLog::open(MessageLog::Options{file, FsyncPolicy::never, 0}, 0);
    for (int i = 0; i < 5; ++i) {
      danube::StreamMessage message;
      message.set_payload("p" + std::to_string(i));
      const auto result = log->append(message);
      BOOST_REQUIRE(result.offset.has_value());
      BOOST_TEST(*result.offset == static_cast<std::uint64_t>(i));
    }
    BOOST_TEST(log->read(3)->msg_id().topic_offset() == 3U);
    log->trim_before(2);
    BOOST_TEST(log->read(1) == nullptr);
    BOOST_TEST(log->read(2)->payload() == "p2");
    BOOST_TEST(log->read(5) == nullptr);
  }
  auto recovered = MessageLog::open(MessageLog::Options{file, FsyncPolicy::never, 0}, 3);
  BOOST_TEST(recovered->end_position() == 5U);
  BOOST_TEST(recovered->read(2) == nullptr);  // below keep_from: not loaded
  BOOST_TEST(recovered->read(4)->payload() == "p4");
  BOOST_TEST(recovered->stats().first_position == 0U);
  BOOST_TEST(*recovered->append(danube::StreamMessage{}).offset == 5U);
}

BOOST_AUTO_TEST_CASE(message_log_backlog_limit_refuses_then_recovers_after_trim) {
  auto log = MessageLog::open(MessageLog::Options{std::nullopt, FsyncPolicy::never, 100}, 0);
  danube::StreamMessage message;
  message.set_payload(std::string(60, 'x'));
  BOOST_TEST(log->append(message).offset.has_value());  // one entry always fits
  const auto refused = log->append(message);
  BOOST_TEST(!refused.offset.has_value());
  BOOST_TEST(refused.backlog_full);
  log->trim_before(1);
  BOOST_TEST(log->append(message).offset.value_or(99) == 1U);
}

BOOST_AUTO_TEST_CASE(timer_queue_runs_in_due_order_and_cancels) {
  TimerQueue timers;
  std::mutex mutex;
  std::vector<int> order;
  std::promise<void> done;
  const auto record = [&](int value) {
    std::lock_guard lock(mutex);
    order.push_back(value);
  };
  const auto now = TimerQueue::Clock::now();
  timers.schedule_at(now + 30ms, [&] { record(3); });
  timers.schedule_at(now + 10ms, [&] { record(1); });
  const auto cancelled = timers.schedule_at(now + 20ms, [&] { record(99); });
  timers.schedule_at(now + 20ms, [&] { record(2); });
  timers.schedule_at(now + 40ms, [&] { done.set_value(); });
  BOOST_TEST(timers.cancel(cancelled));
  BOOST_TEST(!timers.cancel(cancelled));
  BOOST_REQUIRE(done.get_future().wait_for(kWait) == std::future_status::ready);
  std::lock_guard lock(mutex);
  BOOST_TEST(order == (std::vector<int>{1, 2, 3}), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(timer_queue_clear_drops_pending_tasks) {
  TimerQueue timers;
  std::atomic<bool> ran{false};
  timers.schedule_after(std::chrono::hours(1), [&] { ran = true; });
  timers.clear();
  std::promise<void> later;
  timers.schedule_after(1ms, [&] { later.set_value(); });  // still usable after clear()
  BOOST_REQUIRE(later.get_future().wait_for(kWait) == std::future_status::ready);
  BOOST_TEST(!ran.load());
}

}  // namespace
}  // namespace danube::testkit::test
