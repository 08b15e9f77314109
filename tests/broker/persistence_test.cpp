// --data-dir: reliable topics, their logs, subscription cursors and schemas survive a restart;
// without it a restart keeps the in-memory state but drops every session.

#include <boost/test/unit_test.hpp>
#include <fstream>

#include "broker_test_support.hpp"

namespace danube::testkit::test {
namespace {

using grpc::StatusCode;

BrokerOptions persistent_options(const TempDir& dir, FsyncPolicy fsync = FsyncPolicy::interval) {
  auto options = fast_options();
  options.data_dir = dir.path();
  options.fsync = fsync;
  return options;
}

// Publishes `count` messages to a fresh reliable topic whose subscription "s" acks the first
// `acked` of them, then stops the broker.
void publish_and_partly_ack(EmbeddedBroker& broker, const std::string& topic, int count,
                            int acked) {
  Client client(broker.address());
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  {
    StreamReader reader(client, consumer);
    BOOST_REQUIRE(wait_connected(broker, topic, "s", 1));
    for (int i = 0; i < count; ++i)
      client.send_ok(producer, topic, "m" + std::to_string(i));
    for (int i = 0; i < acked; ++i) {
      BOOST_REQUIRE(client.ack(reader.take(1).front(), "s").ok());
    }
  }
  broker.stop();
}

BOOST_AUTO_TEST_CASE(unacked_messages_survive_a_restart_with_a_data_dir) {
  TempDir dir;
  const std::string topic = "/default/durable";
  {
    RunningBroker first(persistent_options(dir));
    publish_and_partly_ack(first.broker, topic, 10, 4);
  }
  RunningBroker second(persistent_options(dir));
  BOOST_TEST(second.broker.topics() == std::vector<std::string>{topic});
  const auto snapshot = second.broker.subscription(topic, "s");
  BOOST_REQUIRE(snapshot.has_value());
  BOOST_TEST(snapshot->cursor == 4U);
  BOOST_TEST(snapshot->type == "Exclusive");

  Client client(second.broker.address());
  danube::HealthCheckResponse health;
  BOOST_REQUIRE(client.health(0, 1, &health).ok());
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  StreamReader reader(client, consumer);
  const auto replayed = reader.take(6);
  for (int i = 0; i < 6; ++i) {
    BOOST_TEST(replayed[i].payload() == "m" + std::to_string(i + 4));
    BOOST_TEST(replayed[i].msg_id().topic_offset() == static_cast<std::uint64_t>(i + 4));
  }
  // Offsets keep counting where the log ended.
  const auto producer = client.producer(topic, "p2", true);
  client.send_ok(producer, topic, "after-restart");
  BOOST_TEST(reader.take(1).front().msg_id().topic_offset() == 10U);
}

BOOST_AUTO_TEST_CASE(restart_of_the_same_broker_object_reloads_from_disk) {
  TempDir dir;
  const std::string topic = "/default/same-object";
  RunningBroker fixture(persistent_options(dir, FsyncPolicy::always));
  publish_and_partly_ack(fixture.broker, topic, 3, 1);
  fixture.broker.start();
  const auto snapshot = fixture.broker.subscription(topic, "s");
  BOOST_REQUIRE(snapshot.has_value());
  BOOST_TEST(snapshot->cursor == 1U);
  Client client(fixture.broker.address());
  StreamReader reader(client, client.consumer(topic, "c", "s", SubType::exclusive));
  const auto replayed = reader.take(2);
  BOOST_TEST(replayed[0].payload() == "m1");
  BOOST_TEST(replayed[1].payload() == "m2");
}

BOOST_AUTO_TEST_CASE(subscription_created_before_a_crash_keeps_its_start_offset) {
  TempDir dir;
  const std::string topic = "/default/early-sub";
  {
    RunningBroker first(persistent_options(dir, FsyncPolicy::never));
    Client client(first.broker.address());
    const auto producer = client.producer(topic, "p", true);
    client.send_ok(producer, topic, "before-subscription");
    client.consumer(topic, "c", "s", SubType::shared);  // no stream, nothing acked
    client.send_ok(producer, topic, "for-the-subscription");
  }
  RunningBroker second(persistent_options(dir));
  Client client(second.broker.address());
  StreamReader reader(client, client.consumer(topic, "c", "s", SubType::shared));
  BOOST_TEST(reader.take(1).front().payload() == "for-the-subscription");
}

BOOST_AUTO_TEST_CASE(torn_log_tail_is_cut_and_appends_continue) {
  TempDir dir;
  const std::string topic = "/default/torn";
  {
    RunningBroker first(persistent_options(dir));
    publish_and_partly_ack(first.broker, topic, 3, 0);
  }
  const auto log = dir.path() / "topics" / "default" / "torn" / "log";
  BOOST_REQUIRE(std::filesystem::exists(log));
  const auto intact_size = std::filesystem::file_size(log);
  {
    std::ofstream append(log, std::ios::binary | std::ios::app);
    append << std::string("\x03\x00\x00\x00\x00\x00\x00\x00\xff\xff", 10);  // half a header
  }
  RunningBroker second(persistent_options(dir));
  BOOST_TEST(std::filesystem::file_size(log) == intact_size);
  Client client(second.broker.address());
  StreamReader reader(client, client.consumer(topic, "c", "s", SubType::exclusive));
  BOOST_TEST(reader.take(3).back().payload() == "m2");
  const auto producer = client.producer(topic, "p", true);
  client.send_ok(producer, topic, "m3");
  BOOST_TEST(reader.take(1).front().msg_id().topic_offset() == 3U);
}

BOOST_AUTO_TEST_CASE(corrupt_frame_ends_recovery_at_the_last_good_frame) {
  TempDir dir;
  const std::string topic = "/default/corrupt";
  {
    RunningBroker first(persistent_options(dir));
    publish_and_partly_ack(first.broker, topic, 3, 0);
  }
  const auto log = dir.path() / "topics" / "default" / "corrupt" / "log";
  {
    // Flip the last payload byte: the last frame's CRC no longer matches.
    std::fstream file(log, std::ios::binary | std::ios::in | std::ios::out);
    file.seekg(-1, std::ios::end);
    const char last = static_cast<char>(file.get());
    file.seekp(-1, std::ios::end);
    file.put(static_cast<char>(last ^ 0x5A));
  }
  RunningBroker second(persistent_options(dir));
  Client client(second.broker.address());
  StreamReader reader(client, client.consumer(topic, "c", "s", SubType::exclusive));
  const auto replayed = reader.take(2);
  BOOST_TEST(replayed.back().payload() == "m1");
  const auto producer = client.producer(topic, "p", true);
  client.send_ok(producer, topic, "replacement");
  const auto next = reader.take(1).front();
  BOOST_TEST(next.payload() == "replacement");
  BOOST_TEST(next.msg_id().topic_offset() == 2U);
}

BOOST_AUTO_TEST_CASE(schemas_and_topic_bindings_survive_a_restart) {
  TempDir dir;
  {
    RunningBroker first(persistent_options(dir));
    Client client(first.broker.address());
    danube_schema::RegisterSchemaRequest request;
    request.set_subject("events");
    request.set_schema_type("json_schema");
    request.set_schema_definition(R"({"type":"object","properties":{"a":{"type":"string"}}})");
    danube_schema::RegisterSchemaResponse response;
    grpc::ClientContext context;
    client.prepare(context);
    BOOST_REQUIRE(client.schemas->RegisterSchema(&context, request, &response).ok());
    BOOST_REQUIRE(client.create_producer("/default/typed", "p", false, nullptr, "events").ok());
  }
  RunningBroker second(persistent_options(dir));
  Client client(second.broker.address());
  danube_schema::GetLatestSchemaRequest latest;
  latest.set_subject("events");
  danube_schema::GetSchemaResponse schema;
  grpc::ClientContext context;
  client.prepare(context);
  BOOST_REQUIRE(client.schemas->GetLatestSchema(&context, latest, &schema).ok());
  BOOST_TEST(schema.version() == 1U);
  BOOST_TEST(schema.schema_type() == "json_schema");

  danube_schema::GetTopicSchemaConfigRequest config_request;
  config_request.set_topic_name("/default/typed");
  danube_schema::GetTopicSchemaConfigResponse config;
  grpc::ClientContext config_context;
  client.prepare(config_context);
  BOOST_REQUIRE(
      client.schemas->GetTopicSchemaConfig(&config_context, config_request, &config).ok());
  BOOST_TEST(config.schema_subject() == "events");
  BOOST_TEST(config.schema_id() == schema.schema_id());
}

// A schemas.json written before the registry answered like Danube (bare SHA-256 fingerprints of
// the definition as given) loads: its versions are answered with Danube's fingerprint and
// envelope, and registering the same schema again finds the stored version.
BOOST_AUTO_TEST_CASE(a_schema_file_of_the_earlier_format_loads) {
  TempDir dir;
  const std::string definition = R"({"type":"object","properties":{"a":{"type":"string"}}})";
  std::string definition_hex;
  for (const unsigned char c : definition) {
    static constexpr char kDigits[] = "0123456789abcdef";
    definition_hex += kDigits[c >> 4];
    definition_hex += kDigits[c & 0x0F];
  }
  {
    std::ofstream file(dir.path() / "schemas.json");
    file << R"({"next_schema_id": 8, "subjects": [{"subject": "legacy", "schema_id": 7,
      "compatibility_mode": "backward", "versions": [{"version": 1, "type": "json_schema",
      "definition_hex": ")"
         << definition_hex << R"(", "description": "old", "created_by": "tester", "tags": [],
      "fingerprint": ")"
         << sha256_hex(definition) << R"(", "created_at": 1700000000, "deleted": false}]}]})";
  }
  const std::string fingerprint =
      "sha256:" + sha256_hex(R"({"properties":{"a":{"type":"string"}},"type":"object"})");

  RunningBroker broker(persistent_options(dir));
  Client client(broker.broker.address());
  danube_schema::GetLatestSchemaRequest latest;
  latest.set_subject("legacy");
  danube_schema::GetSchemaResponse schema;
  {
    grpc::ClientContext context;
    client.prepare(context);
    BOOST_REQUIRE(client.schemas->GetLatestSchema(&context, latest, &schema).ok());
  }
  BOOST_TEST(schema.schema_id() == 7U);
  BOOST_TEST(schema.description() == "old");
  BOOST_TEST(schema.fingerprint() == fingerprint);
  BOOST_TEST(
      schema.schema_definition() ==
      R"({"JsonSchema":{"raw_schema":"{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}","fingerprint":")" +
          fingerprint + R"("}})");

  danube_schema::RegisterSchemaRequest again;
  again.set_subject("legacy");
  again.set_schema_type("json_schema");
  again.set_schema_definition(definition);
  danube_schema::RegisterSchemaResponse registered;
  grpc::ClientContext context;
  client.prepare(context);
  BOOST_REQUIRE(client.schemas->RegisterSchema(&context, again, &registered).ok());
  BOOST_TEST(registered.version() == 1U);
  BOOST_TEST(!registered.is_new_version());
  BOOST_TEST(registered.schema_id() == 7U);
}

BOOST_AUTO_TEST_CASE(cursors_are_flushed_periodically_while_running) {
  TempDir dir;
  RunningBroker fixture(persistent_options(dir));  // fsync_interval 20 ms
  Client client(fixture.broker.address());
  const std::string topic = "/default/flushed";
  const auto producer = client.producer(topic, "p", true);
  StreamReader reader(client, client.consumer(topic, "c", "s", SubType::exclusive));
  BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
  for (int i = 0; i < 3; ++i)
    client.send_ok(producer, topic, "m");
  for (const auto& message : reader.take(3))
    BOOST_REQUIRE(client.ack(message, "s").ok());

  // The file is not broker state that notifies: poll it until the deadline.
  const auto cursors = dir.path() / "topics" / "default" / "flushed" / "subscriptions.json";
  const auto persisted = [&] {
    std::ifstream in(cursors);
    const std::string content((std::istreambuf_iterator<char>(in)), {});
    return content.find("\"cursor\": 3") != std::string::npos;
  };
  BOOST_TEST(fixture.broker.wait_until(persisted, kWait));
}

BOOST_AUTO_TEST_CASE(in_memory_restart_keeps_topics_but_forgets_sessions) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string topic = "/default/volatile";
  const auto producer = client.producer(topic, "p", true);
  const auto consumer = client.consumer(topic, "c", "s", SubType::exclusive);
  {
    StreamReader reader(client, consumer);
    BOOST_REQUIRE(wait_connected(fixture.broker, topic, "s", 1));
    client.send_ok(producer, topic, "unacked");
    reader.take(1);
  }
  const auto port = fixture.broker.port();
  fixture.broker.restart();
  BOOST_TEST(fixture.broker.port() == port);

  BOOST_TEST(client.lookup(topic).ok());
  BOOST_TEST(client.send(client.message(producer, topic, "x")).error_code() ==
             StatusCode::NOT_FOUND);
  danube::HealthCheckResponse health;
  BOOST_REQUIRE(client.health(0, producer, &health).ok());
  BOOST_TEST(health.status() == danube::HealthCheckResponse::CLOSE);
  BOOST_REQUIRE(client.health(1, consumer, &health).ok());
  BOOST_TEST(health.status() == danube::HealthCheckResponse::CLOSE);

  // The subscription and its unacked message are still there for a consumer that comes back.
  StreamReader reader(client, client.consumer(topic, "c", "s", SubType::exclusive));
  BOOST_TEST(reader.take(1).front().payload() == "unacked");
}

BOOST_AUTO_TEST_CASE(unreadable_state_makes_start_fail_with_a_clear_error) {
  TempDir dir;
  const auto topic_dir = dir.path() / "topics" / "default" / "broken";
  std::filesystem::create_directories(topic_dir);
  std::ofstream(topic_dir / "meta.json") << "{ not json";
  EmbeddedBroker broker(persistent_options(dir));
  quiet_logs();
  try {
    broker.start();
    BOOST_FAIL("start() accepted corrupt metadata");
  } catch (const std::runtime_error& error) {
    const std::string what = error.what();
    BOOST_TEST(what.find("meta.json") != std::string::npos);
    BOOST_TEST(what.find("127.0.0.1:0") != std::string::npos);
  }
  BOOST_TEST(!broker.running());
}

}  // namespace
}  // namespace danube::testkit::test
