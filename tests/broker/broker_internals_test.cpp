// White-box tests of the broker's building blocks (no gRPC server involved).

#include <boost/test/unit_test.hpp>
#include <future>
#include <variant>

#include "broker_test_support.hpp"
#include "jwt.hpp"
#include "message_log.hpp"
#include "schema_compatibility.hpp"
#include "schema_records.hpp"
#include "serde_json_text.hpp"
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
  // Danube takes avro, json_schema and protobuf definitions as UTF-8 text only.
  for (const std::string bad :
       {"\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xe2\x82"}) {
    BOOST_TEST(invalid_definition_reason("protobuf", "message M {} // " + bad) ==
               "the definition is not valid UTF-8");
    BOOST_TEST(invalid_definition_reason("avro", bad) == "the definition is not valid UTF-8");
    BOOST_TEST(invalid_definition_reason("bytes", bad).empty());  // not kept, not looked at
  }
  BOOST_TEST(invalid_definition_reason("protobuf", "// Caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")
                 .empty());
}

BOOST_AUTO_TEST_CASE(schema_types_are_normalized_like_danube) {
  const std::vector<std::pair<std::string, std::string>> names = {
      {"bytes", "bytes"},      {"String", "string"},
      {"number", "number"},    {"INT64", "number"},
      {"int", "number"},       {"float", "number"},
      {"Double", "number"},    {"avro", "avro"},
      {"json", "json_schema"}, {"JSON_SCHEMA", "json_schema"},
      {"proto", "protobuf"},   {"Protobuf", "protobuf"}};
  for (const auto& [given, normalized] : names) {
    BOOST_TEST(normalize_schema_type(given).value_or("-") == normalized, given);
  }
  for (const std::string unknown : {"", "yaml", "jsonschema", "int32", " avro"}) {
    BOOST_TEST(!normalize_schema_type(unknown).has_value(), unknown);
  }
}

BOOST_AUTO_TEST_CASE(serde_json_text_writes_what_serde_json_writes) {
  const auto text = [](std::string_view json) { return serde_json_text(json).value_or("<none>"); };
  BOOST_TEST(text(R"( { "b" : [1, -2, true, null], "a":{"z":"","y":{}} } )") ==
             R"({"a":{"y":{},"z":""},"b":[1,-2,true,null]})");
  BOOST_TEST(text("\"Caf\xc3\xa9 \\u00e9 \\/ \\\" \\t \\u0001 \\u007f\"") ==
             "\"Caf\xc3\xa9 \xc3\xa9 / \\\" \\t \\u0001 \x7f\"");
  // Floats: fixed notation for decimal exponents -5 to 15, scientific with an unpadded exponent
  // beyond; integers as written, except -0.
  const std::vector<std::pair<std::string, std::string>> numbers = {
      {"0.5", "0.5"},
      {"100.0", "100.0"},
      {"1E2", "100.0"},
      {"12e-1", "1.2"},
      {"0.1", "0.1"},
      {"0.00001", "0.00001"},
      {"0.000001", "1e-6"},
      {"1.5e-7", "1.5e-7"},
      {"1e14", "100000000000000.0"},
      {"1e15", "1000000000000000.0"},
      {"2.5e15", "2500000000000000.0"},
      {"1e16", "1e+16"},
      {"123456789012345.6", "123456789012345.6"},
      {"1.5e300", "1.5e+300"},
      {"5e-324", "5e-324"},
      {"1e-0", "1.0"},
      {"-0.0", "-0.0"},
      {"-0", "-0.0"},
      {"-0.25", "-0.25"},
      {"100", "100"},
      {"-7", "-7"},
      {"12345678901234567890", "12345678901234567890"},
      {"-9223372036854775808", "-9223372036854775808"}};
  for (const auto& [given, written] : numbers) {
    BOOST_TEST(text("[" + given + "]") == "[" + written + "]", given);
  }
  BOOST_TEST(text(R"({"a":"-0","b":[-0,-0e1,1e-0]})") == R"({"a":"-0","b":[-0.0,-0.0,1.0]})");
  BOOST_TEST(!serde_json_text("{").has_value());
  BOOST_TEST(!serde_json_text("").has_value());
  BOOST_TEST(!serde_json_text(std::string(129, '[') + std::string(129, ']')).has_value());
}

// Fingerprints the real Danube 0.15.1 broker answered for these registrations (2026-12-03).
BOOST_AUTO_TEST_CASE(fingerprints_match_what_danube_answered) {
  const auto multiple_of = [](const std::string& number) {
    return R"({"type":"object","multipleOf":)" + number + "}";
  };
  const std::vector<std::pair<std::string, std::string>> json_schemas = {
      {R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})",
       "52ae9b42467ac0a18b5ed957ca40c1a5be794d01551127ff63b2eeebae215c7f"},
      {"{ \"type\" : \"object\",\n \"title\": \"Caf\xc3\xa9 \\u00e9 \\/ \\\"q\\\" \\t\\u0001\", "
       "\"properties\": {\"b\": {\"type\":\"number\", \"minimum\": 0.5, \"maximum\": 1e3, "
       "\"multipleOf\": 0.1}, \"a\": {\"type\":\"array\",\"enum\":[1,2,-3]}}}",
       "fb1f1d5ca7f6e4485ba1349ccaf7b4b787e663a0a12fb96d44a7b9f9cc0d89b7"},
      {R"({"type":"object","maximum":1e20,"minimum":1.5e-7,"x":-0,"y":12345678901234567890})",
       "fb5f5652561efe5f1af12169ceb9fd674e9d15a7b34b6c96270cb8c2d203ed51"},
      {multiple_of("1e15"), "e72a43aae2958a15d67fd147c376fa4b879cfeaae85b3d415dc09dc3f349fbab"},
      {multiple_of("2.5e15"), "b2f98e2aeebd83bafb4ba3b2dd1d2f22484a97d5f75ce63e647126f3b3037c96"},
      {multiple_of("1e16"), "989da745366e5033c6530e9173a7f6869573f3abf0b9878103c1f778e892d8c8"},
      {multiple_of("123456789012345.6"),
       "2c6dc5fe6e1ccb0018d75863588ec789c520133bd41919ce81377dbaed82cc61"},
      {multiple_of("1e14"), "fae6da637fab57afe0e3882269185bdf48004d460b7d0ec6997bd4f1f6623806"},
      {multiple_of("0.00001"), "3cdeaae78011c1d4edb52af22b4abd33e3070222186d4a6df0932a5693d22cc2"},
      {multiple_of("0.000001"), "fc3b1c8973afad8688f609f1bcba714d538c98466bac8802fcbd89aaa4ed9ad1"},
      {multiple_of("0.0001"), "cb92d9ae9f3bc6a2192a1b32212744dd20b39a10fb0c103d4137561311d4615b"},
      {multiple_of("1.5e300"), "9cd3db05864f329b985ca369da8f3a0c59b735b77c05ed0351540ff61d14de27"},
      {multiple_of("5e-324"), "a127e2bf1e94c04b209ad222c346b0f7ce69f6b3ddf67cd63a92f9d0a25fa467"},
      {multiple_of("0.1"), "52db27e7ee0ceff5ee7346973f3c750268ea1c1287d8eaacd845984bdf291ae9"},
      {multiple_of("100.0"), "1649ed7654916128f604653633935db71c2553aff9dafdc331a923d1a41d03fb"},
      {multiple_of("1E2"), "1649ed7654916128f604653633935db71c2553aff9dafdc331a923d1a41d03fb"},
      {multiple_of("100"), "66589600c108789eb386988d0eedf52a45f78497b132fb9b8364e649f5543dee"},
      {multiple_of("12e-1"), "4b345dd5ac5add8a8bb0eae5ec717894ac931601c99895e2ec8951aa37aff5f5"},
  };
  for (const auto& [definition, digest] : json_schemas) {
    BOOST_TEST(schema_fingerprint("json_schema", definition) == "sha256:" + digest, definition);
  }
  // Avro schemas already in apache_avro's form; protobuf hashes the text as given.
  BOOST_TEST(
      schema_fingerprint(
          "avro",
          R"({"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]})") ==
      "sha256:994a64ae2ddf87c3f797b2f8fc1b455bbf04131e15112392363387f041572143");
  BOOST_TEST(
      schema_fingerprint(
          "avro",
          R"({"type": "record", "name": "User", "fields": [ {"name": "id", "type": "long"} ]})") ==
      "sha256:992e63f273d9e1178870455012c5524084ed67c316dd1897f60b5aec9e5ac233");
  BOOST_TEST(
      schema_fingerprint("protobuf", "syntax = \"proto3\";\nmessage User { string name = 1; }\n") ==
      "sha256:209fdf4ab96de39689570a327b4910e68c288b53d116772e105be74b4e087e6b");
  for (const std::string type : {"bytes", "string", "number"}) {
    BOOST_TEST(schema_fingerprint(type, "whatever it says") == type);
  }
  // Not JSON: the text as given.
  BOOST_TEST(schema_fingerprint("avro", "def") == "sha256:" + internal::sha256_hex("def"));
}

BOOST_AUTO_TEST_CASE(envelopes_are_what_danube_answered) {
  BOOST_TEST(schema_definition_envelope("bytes", "ignored", "bytes") == R"("Bytes")");
  BOOST_TEST(schema_definition_envelope("string", "", "string") == R"("String")");
  BOOST_TEST(schema_definition_envelope("number", "", "number") == R"("Number")");
  BOOST_TEST(
      schema_definition_envelope(
          "json_schema",
          R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})",
          "sha256:52ae9b42467ac0a18b5ed957ca40c1a5be794d01551127ff63b2eeebae215c7f") ==
      R"({"JsonSchema":{"raw_schema":"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"]}","fingerprint":"sha256:52ae9b42467ac0a18b5ed957ca40c1a5be794d01551127ff63b2eeebae215c7f"}})");
  BOOST_TEST(
      schema_definition_envelope(
          "avro",
          R"({"type": "record", "name": "User", "fields": [ {"name": "id", "type": "long"} ]})",
          "sha256:992e63f273d9e1178870455012c5524084ed67c316dd1897f60b5aec9e5ac233") ==
      R"({"Avro":{"raw_schema":"{\"type\": \"record\", \"name\": \"User\", \"fields\": [ {\"name\": \"id\", \"type\": \"long\"} ]}","fingerprint":"sha256:992e63f273d9e1178870455012c5524084ed67c316dd1897f60b5aec9e5ac233"}})");
  BOOST_TEST(
      schema_definition_envelope(
          "protobuf", "syntax = \"proto3\";\nmessage User { string name = 1; }\n",
          "sha256:209fdf4ab96de39689570a327b4910e68c288b53d116772e105be74b4e087e6b") ==
      R"({"Protobuf":{"raw_proto":"syntax = \"proto3\";\nmessage User { string name = 1; }\n","message_name":"DefaultMessage","fingerprint":"sha256:209fdf4ab96de39689570a327b4910e68c288b53d116772e105be74b4e087e6b"}})");
  BOOST_TEST(schema_definition_envelope("yaml", "a: 1", "x") == "a: 1");
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
