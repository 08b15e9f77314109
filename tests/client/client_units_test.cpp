// Unit tests of the client's building blocks that need no broker: URL parsing, key routing,
// retry backoff bounds, the scheduler, the flow-controlled receive buffer and the schema
// registry's answers.
#include <unistd.h>

#include <atomic>
#include <boost/test/unit_test.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include "client_core.hpp"
#include "danube/client/partitioning.hpp"
#include "danube/common/client_error.hpp"
#include "proto_conversions.hpp"
#include "receive_buffer.hpp"
#include "release_guard.hpp"
#include "scheduler.hpp"
#include "schema_definition_envelope.hpp"
#include "service_url.hpp"
#include "thread_names.hpp"

using namespace danube::client;
using namespace danube::client::detail;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(service_urls)

BOOST_AUTO_TEST_CASE(scheme_is_stripped_and_tls_detected) {
  auto plain = parse_service_url("http://127.0.0.1:6650");
  BOOST_REQUIRE(plain.ok());
  BOOST_TEST(plain.value().target == "127.0.0.1:6650");
  BOOST_TEST(!plain.value().tls);

  auto secure = parse_service_url("https://broker.example:6651/");
  BOOST_REQUIRE(secure.ok());
  BOOST_TEST(secure.value().target == "broker.example:6651");
  BOOST_TEST(secure.value().tls);

  auto bare = parse_service_url("localhost:6650");
  BOOST_REQUIRE(bare.ok());
  BOOST_TEST(bare.value().target == "localhost:6650");
}

BOOST_AUTO_TEST_CASE(bad_urls_are_rejected_with_the_reason) {
  for (const char* url : {"", "http://", "ftp://host:1", "http://host", "http://host:0",
                          "http://host:99999", "http://host:12/path", "http://:6650"}) {
    auto parsed = parse_service_url(url);
    BOOST_TEST_CONTEXT("url '" << url << "'") {
      BOOST_REQUIRE(!parsed.ok());
      BOOST_TEST((parsed.error().category() == ErrorCategory::invalid_argument));
      BOOST_TEST(parsed.error().message().find("invalid service URL") != std::string::npos);
    }
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(key_routing)

BOOST_AUTO_TEST_CASE(fnv1a_64_matches_the_reference_vectors) {
  // Published FNV-1a 64-bit test vectors.
  BOOST_TEST(fnv1a_64("") == 0xcbf29ce484222325ULL);
  BOOST_TEST(fnv1a_64("a") == 0xaf63dc4c8601ec8cULL);
  BOOST_TEST(fnv1a_64("foobar") == 0x85944171f73967e8ULL);
}

BOOST_AUTO_TEST_CASE(a_key_always_maps_to_the_same_partition) {
  for (std::size_t partitions : {1u, 2u, 3u, 7u, 16u}) {
    for (const char* key : {"sensor-1", "sensor-2", "", "ключ", "a much longer key value"}) {
      const auto first = partition_for_key(key, partitions);
      BOOST_TEST(first < partitions);
      BOOST_TEST(partition_for_key(key, partitions) == first);
      BOOST_TEST(first == fnv1a_64(key) % partitions);
    }
  }
  BOOST_TEST(partition_for_key("anything", 0) == 0u);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(errors)

BOOST_AUTO_TEST_CASE(grpc_codes_map_to_categories) {
  BOOST_TEST((Error::from_grpc_status(14, "x").category() == ErrorCategory::unavailable));
  BOOST_TEST((Error::from_grpc_status(4, "x").category() == ErrorCategory::retryable));
  BOOST_TEST((Error::from_grpc_status(8, "x").category() == ErrorCategory::retryable));
  BOOST_TEST((Error::from_grpc_status(5, "x").category() == ErrorCategory::not_found));
  BOOST_TEST((Error::from_grpc_status(3, "x").category() == ErrorCategory::invalid_argument));
  BOOST_TEST((Error::from_grpc_status(9, "x").category() == ErrorCategory::precondition));
  BOOST_TEST((Error::from_grpc_status(16, "x").category() == ErrorCategory::unauthenticated));
  BOOST_TEST((Error::from_grpc_status(7, "x").category() == ErrorCategory::permission));
  BOOST_TEST((Error::from_grpc_status(13, "x").category() == ErrorCategory::internal));
  BOOST_TEST(Error::from_grpc_status(14, "x").is_retryable());
  BOOST_TEST(!Error::from_grpc_status(5, "x").is_retryable());
  BOOST_TEST(Error::from_grpc_status(14, "down").to_string() == "unavailable (grpc 14): down");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scheduler)

BOOST_AUTO_TEST_CASE(tasks_run_in_due_order) {
  Scheduler scheduler("test");
  std::mutex mutex;
  std::condition_variable done;
  std::vector<int> order;
  auto record = [&](int value) {
    std::lock_guard lock(mutex);
    order.push_back(value);
    done.notify_all();
  };
  scheduler.post_after(60ms, [&] { record(3); });
  scheduler.post_after(30ms, [&] { record(2); });
  scheduler.post([&] { record(1); });
  std::unique_lock lock(mutex);
  BOOST_REQUIRE(done.wait_for(lock, 5s, [&] { return order.size() == 3; }));
  BOOST_TEST(order == (std::vector<int>{1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(a_task_may_destroy_its_own_scheduler) {
  auto scheduler = std::make_shared<Scheduler>("self-destroying");
  std::promise<void> finished;
  auto owner = std::make_shared<std::shared_ptr<Scheduler>>(scheduler);
  scheduler->post([owner, &finished] {
    owner->reset();  // the last reference goes away on the scheduler's own thread
    finished.set_value();
  });
  scheduler.reset();
  BOOST_TEST((finished.get_future().wait_for(5s) == std::future_status::ready));
}

// An idle connector never closes anything: its client's control scheduler must not cost a thread.
BOOST_AUTO_TEST_CASE(a_scheduler_starts_its_named_thread_with_its_first_task) {
  Scheduler scheduler("lazy-scheduler");
  BOOST_TEST(danube::test::threads_named(getpid(), "lazy-scheduler") == 0u);
  std::promise<bool> on_own_thread;
  scheduler.post([&] { on_own_thread.set_value(scheduler.on_scheduler_thread()); });
  auto answer = on_own_thread.get_future();
  BOOST_REQUIRE((answer.wait_for(5s) == std::future_status::ready));
  BOOST_TEST(answer.get());
  BOOST_TEST(!scheduler.on_scheduler_thread());
  BOOST_TEST(danube::test::threads_named(getpid(), "lazy-scheduler") == 1u);
  scheduler.post([] {});  // the same thread
  BOOST_TEST(danube::test::threads_named(getpid(), "lazy-scheduler") == 1u);
}

BOOST_AUTO_TEST_CASE(pending_tasks_are_dropped_on_destruction) {
  std::atomic<bool> ran{false};
  {
    Scheduler scheduler("drop");
    scheduler.post_after(1h, [&] { ran = true; });
  }
  BOOST_TEST(!ran.load());
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(release_guard)

// Stands in for a consumer or producer core: owns the client core, and its destruction takes
// long enough that a handle which does not wait for it returns first.
struct SlowCore {
  std::atomic<bool>* destroyed;
  std::shared_ptr<ClientCore> client;
  ~SlowCore() {
    std::this_thread::sleep_for(100ms);  // stands for closing calls; part of the scenario
    client.reset();
    destroyed->store(true);
  }
  ClientCore& owning_client() { return *client; }
};

// An in-flight call's completion runs on a gRPC thread, holds the core and drops it after the
// handle is gone: the core, and with it the client core whose last user it is, is destroyed on
// the client's control thread. The handle's destructor must return only after that.
BOOST_AUTO_TEST_CASE(a_handle_waits_for_a_core_released_later_on_a_grpc_thread) {
  ClientOptions options;
  options.service_url = "http://127.0.0.1:1";
  auto client = ClientCore::create(options);
  BOOST_REQUIRE(client.ok());
  std::atomic<bool> destroyed{false};
  std::shared_ptr<SlowCore> handle(new SlowCore{&destroyed, std::move(client).value()},
                                   CoreDeleter<SlowCore>{});

  std::weak_ptr<SlowCore> watch = handle;
  std::thread completion([in_flight = handle, watch]() mutable {
    const ReleaseRestriction on_a_grpc_thread;
    while (watch.use_count() > 1)
      std::this_thread::yield();  // until the handle let go
    in_flight.reset();
  });
  release_and_wait(handle, 5s);
  const bool destroyed_when_handle_returned = destroyed.load();
  completion.join();
  BOOST_TEST(destroyed_when_handle_returned);
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(receive_buffer)

ReceivedMessage message_of(std::size_t bytes) {
  ReceivedMessage message;
  message.payload.assign(bytes, 'x');
  return message;
}

BOOST_AUTO_TEST_CASE(a_full_buffer_blocks_the_reader_until_the_application_takes_messages) {
  ReceiveBuffer buffer(3, 1 << 20);
  for (int i = 0; i < 3; ++i) {
    BOOST_REQUIRE(buffer.wait_for_room());
    buffer.push_now(message_of(10));
  }
  std::promise<bool> reader_got_room;
  std::thread reader([&] { reader_got_room.set_value(buffer.wait_for_room()); });
  auto room = reader_got_room.get_future();
  BOOST_TEST((room.wait_for(100ms) == std::future_status::timeout));  // still full
  BOOST_TEST(buffer.try_pop(1).size() == 1u);
  BOOST_TEST((room.wait_for(5s) == std::future_status::ready));
  BOOST_TEST(room.get());
  reader.join();
}

BOOST_AUTO_TEST_CASE(bytes_bound_the_buffer_too) {
  ReceiveBuffer buffer(1000, 4096);
  int admitted = 0;
  while (admitted < 100) {
    std::promise<bool> room;
    std::thread probe([&] { room.set_value(buffer.wait_for_room()); });
    auto future = room.get_future();
    if (future.wait_for(50ms) == std::future_status::timeout) {
      buffer.close();  // unblock the probe
      probe.join();
      break;
    }
    probe.join();
    buffer.push_now(message_of(1000));
    ++admitted;
  }
  BOOST_TEST(admitted < 10);
  BOOST_TEST(buffer.bytes() < 4096u + 2000u);
}

BOOST_AUTO_TEST_CASE(ready_callback_fires_on_the_empty_to_non_empty_edge) {
  ReceiveBuffer buffer(10, 1 << 20);
  std::atomic<int> calls{0};
  buffer.set_ready_callback([&] { ++calls; });
  buffer.push_now(message_of(1));
  buffer.push_now(message_of(1));
  BOOST_TEST(calls.load() == 1);
  BOOST_TEST(buffer.try_pop(10).size() == 2u);
  buffer.push_now(message_of(1));
  BOOST_TEST(calls.load() == 2);
  std::atomic<int> late_calls{0};
  buffer.set_ready_callback([&] { ++late_calls; });  // already non-empty: called at once
  BOOST_TEST(late_calls.load() == 1);
}

BOOST_AUTO_TEST_CASE(close_wakes_blocked_readers_and_keeps_messages_readable) {
  ReceiveBuffer buffer(1, 1 << 20);
  buffer.push_now(message_of(5));
  std::promise<bool> room;
  std::thread reader([&] { room.set_value(buffer.wait_for_room()); });
  buffer.close();
  reader.join();
  BOOST_TEST(!room.get_future().get());
  BOOST_TEST(buffer.try_pop(5).size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()

// What Danube 0.15.1 answered in schema_definition for schemas registered on it (the JSON
// Schema, Avro and .proto envelopes below are its answers, byte for byte), and what the client
// makes of them.
BOOST_AUTO_TEST_SUITE(schema_definition_envelopes)

const std::string kJsonSchema =
    R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})";
const std::string kJsonEnvelope =
    R"({"JsonSchema":{"raw_schema":"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"]}","fingerprint":"sha256:52ae9b42467ac0a18b5ed957ca40c1a5be794d01551127ff63b2eeebae215c7f"}})";
const std::string kAvroSchema =
    R"({"type": "record", "name": "User", "fields": [ {"name": "id", "type": "long"} ]})";
const std::string kAvroEnvelope =
    R"({"Avro":{"raw_schema":"{\"type\": \"record\", \"name\": \"User\", \"fields\": [ {\"name\": \"id\", \"type\": \"long\"} ]}","fingerprint":"sha256:992e63f273d9e1178870455012c5524084ed67c316dd1897f60b5aec9e5ac233"}})";
const std::string kProto = "syntax = \"proto3\";\nmessage User { string name = 1; }\n";
const std::string kProtoEnvelope =
    R"({"Protobuf":{"raw_proto":"syntax = \"proto3\";\nmessage User { string name = 1; }\n","message_name":"DefaultMessage","fingerprint":"sha256:209fdf4ab96de39689570a327b4910e68c288b53d116772e105be74b4e087e6b"}})";

BOOST_AUTO_TEST_CASE(each_variant_gives_the_registered_definition) {
  BOOST_TEST(unwrap_schema_definition("json_schema", kJsonEnvelope) == kJsonSchema);
  BOOST_TEST(unwrap_schema_definition("avro", kAvroEnvelope) == kAvroSchema);
  BOOST_TEST(unwrap_schema_definition("protobuf", kProtoEnvelope) == kProto);
  // The types without a definition: the broker keeps none, so there is none to give.
  BOOST_TEST(unwrap_schema_definition("bytes", R"("Bytes")") == "");
  BOOST_TEST(unwrap_schema_definition("string", R"("String")") == "");
  BOOST_TEST(unwrap_schema_definition("number", R"("Number")") == "");
  // The type is matched as the SDK parses it elsewhere: case-insensitive, "json" for JSON Schema.
  BOOST_TEST(unwrap_schema_definition("JSON", kJsonEnvelope) == kJsonSchema);
  // Non-ASCII text and escapes come back as the characters they stand for.
  BOOST_TEST(unwrap_schema_definition(
                 "json_schema",
                 "{\"JsonSchema\":{\"raw_schema\":\"{\\\"title\\\":\\\"Caf\xc3\xa9 \\\\u00e9\\\\n"
                 "\\\"}\",\"fingerprint\":\"f\"}}") == "{\"title\":\"Caf\xc3\xa9 \\u00e9\\n\"}");
}

BOOST_AUTO_TEST_CASE(raw_definitions_pass_through_unchanged) {
  BOOST_TEST(unwrap_schema_definition("json_schema", kJsonSchema) == kJsonSchema);
  BOOST_TEST(unwrap_schema_definition("avro", kAvroSchema) == kAvroSchema);
  BOOST_TEST(unwrap_schema_definition("protobuf", kProto) == kProto);
  BOOST_TEST(unwrap_schema_definition("bytes", "") == "");
  BOOST_TEST(unwrap_schema_definition("string", "utf-8") == "utf-8");
  const std::string binary("\x00\xff{\"Bytes\"", 9);
  BOOST_TEST(unwrap_schema_definition("bytes", binary) == binary);
  // A JSON string that is a definition, not a unit variant.
  BOOST_TEST(unwrap_schema_definition("avro", R"("long")") == R"("long")");
  // A type the SDK does not know: nothing to match the envelope against.
  BOOST_TEST(unwrap_schema_definition("yaml", kJsonEnvelope) == kJsonEnvelope);
}

BOOST_AUTO_TEST_CASE(a_variant_of_another_type_is_not_unwrapped) {
  BOOST_TEST(unwrap_schema_definition("avro", kJsonEnvelope) == kJsonEnvelope);
  BOOST_TEST(unwrap_schema_definition("json_schema", kProtoEnvelope) == kProtoEnvelope);
  BOOST_TEST(unwrap_schema_definition("protobuf", kAvroEnvelope) == kAvroEnvelope);
  BOOST_TEST(unwrap_schema_definition("bytes", R"("String")") == R"("String")");
  BOOST_TEST(unwrap_schema_definition("number", R"("Bytes")") == R"("Bytes")");
  BOOST_TEST(unwrap_schema_definition("string", kJsonEnvelope) == kJsonEnvelope);
}

BOOST_AUTO_TEST_CASE(malformed_or_incomplete_envelopes_pass_through_without_throwing) {
  const std::vector<std::string> odd = {
      kJsonEnvelope.substr(0, kJsonEnvelope.size() - 2),                       // cut short
      R"({"JsonSchema":{"raw_schema":"{}"}})",                                 // no fingerprint
      R"({"JsonSchema":{"raw_schema":7,"fingerprint":"f"}})",                  // not a string
      R"({"JsonSchema":{"raw_proto":"{}","fingerprint":"f"}})",                // another key
      R"({"JsonSchema":"{}"})",                                                // not an object
      R"({"JsonSchema":{"raw_schema":"{}","fingerprint":"f"},"x":1})",         // a second key
      R"(["JsonSchema",{"raw_schema":"{}","fingerprint":"f"}])",               // not an object
      "{\"JsonSchema\":{\"raw_schema\":\"\xff\xfe\",\"fingerprint\":\"f\"}}",  // not UTF-8
      R"({"JsonSchema":{"raw_schema":"\ud800","fingerprint":"f"}})",           // lone surrogate
      std::string(100'000, '{') + std::string(100'000, '}'),                   // nested too deep
      "{",
      "\"",
      "\"Bytes",
      "",
      "  ",
  };
  for (const auto& definition : odd) {
    BOOST_CHECK_NO_THROW(unwrap_schema_definition("json_schema", definition));
    BOOST_TEST(unwrap_schema_definition("json_schema", definition) == definition);
  }
  BOOST_TEST(unwrap_schema_definition("bytes", "\"Bytes") == "\"Bytes");
}

BOOST_AUTO_TEST_CASE(get_schema_answers_are_converted_with_the_raw_definition) {
  danube_schema::GetSchemaResponse response;
  response.set_schema_id(12);
  response.set_version(1);
  response.set_subject("orders-value");
  response.set_schema_type("json_schema");
  response.set_schema_definition(kJsonEnvelope);
  response.set_fingerprint(
      "sha256:52ae9b42467ac0a18b5ed957ca40c1a5be794d01551127ff63b2eeebae215c7f");
  const auto schema = to_registered_schema(response);
  BOOST_TEST(schema.definition == kJsonSchema);
  BOOST_TEST(schema.fingerprint == response.fingerprint());
  BOOST_TEST(schema.schema_type == "json_schema");
  response.set_schema_definition(kJsonSchema);  // a broker that answers the definition as is
  BOOST_TEST(to_registered_schema(response).definition == kJsonSchema);
}

BOOST_AUTO_TEST_SUITE_END()
