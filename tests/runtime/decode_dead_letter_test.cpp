// Dead letters of the sink's decode stage: a message whose payload does not decode with the
// schema it carries (JSON Schema, Avro), or whose schema id the registry does not know, never
// reaches the connector; it goes to the dead-letter topic with dlq.stage = "decode" and the
// original bytes, and is acked. The records around it are processed as usual.
#include <grpcpp/grpcpp.h>

#include <boost/test/unit_test.hpp>
#include <nlohmann/json.hpp>

#include "danube/DanubeApi.grpc.pb.h"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;

namespace {

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(options).value());
  }

  // A sink on `topic` whose dead letters go to `<name>-dlq`, and a reader of that topic.
  connector_actor start_sink(const std::string& topic, const std::string& name,
                             std::shared_ptr<CapturingSink::Shared> shared) {
    broker.create_topic("/default/" + name + "-dlq", true);
    dead_letters = reader(*client, "/default/" + name + "-dlq", name + "-dlq-reader");
    const auto runtime = runtimes.add(spawn_sink(
        system, std::make_unique<CapturingSink>(std::vector{subscription(topic, name)}, shared),
        fast_config(broker.service_url(), name)));
    BOOST_REQUIRE(subscribed(broker, topic, name));
    return runtime;
  }

  // A reliable producer on `topic` that stamps the latest schema of `subject`.
  std::unique_ptr<client::Producer> typed_producer(const std::string& topic,
                                                   const std::string& subject,
                                                   const std::string& type,
                                                   const std::string& definition) {
    client::RegisterSchemaRequest registration;
    registration.subject = subject;
    registration.schema_type = type;
    registration.definition = definition;
    BOOST_REQUIRE(client->schema_registry().register_schema(registration).ok());
    client::ProducerOptions options;
    options.topic = topic;
    options.name = subject + "-producer";
    options.dispatch = client::Dispatch::reliable;
    options.schema = client::SchemaReference{subject, {}};
    auto producer = client->create_producer(options);
    BOOST_REQUIRE(producer.ok());
    return std::move(producer).value();
  }

  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  std::unique_ptr<client::Consumer> dead_letters;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};
};

void send(client::Producer& producer, const std::string& payload) {
  client::OutgoingMessage message;
  message.payload = payload;
  message.attributes["sent_as"] = "typed";
  BOOST_REQUIRE(producer.send(std::move(message)).get().ok());
}

std::vector<std::string> payloads_of(CapturingSink::Shared& shared) {
  std::lock_guard lock(shared.mutex);
  std::vector<std::string> payloads;
  for (const auto& record : shared.records)
    payloads.emplace_back(record.payload().view());
  return payloads;
}

void check_decode_dead_letter(const client::ReceivedMessage& dead, const std::string& payload,
                              const std::string& topic, const std::string& kind) {
  BOOST_TEST(dead.payload == payload);  // the original bytes
  BOOST_TEST(dead.attributes.at("dlq.stage") == "decode");
  BOOST_TEST(dead.attributes.at("dlq.error_kind") == kind);
  BOOST_TEST(dead.attributes.at("dlq.origin_topic") == topic);
  BOOST_TEST(dead.attributes.at("dlq.attempts") == "1");
  BOOST_TEST(!dead.attributes.at("dlq.error_message").empty());
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_payload_that_does_not_decode_with_its_schema_is_dead_lettered, Fixture) {
  const std::string topic = "/default/typed-events";
  broker.create_topic(topic, true);
  auto shared = std::make_shared<CapturingSink::Shared>();
  const auto runtime = start_sink(topic, "typed-sink", shared);
  auto producer = typed_producer(topic, "typed-events-value", "json_schema",
                                 R"({"type":"object","properties":{"n":{"type":"integer"}}})");
  send(*producer, R"({"n":1})");
  send(*producer, "not json {");
  send(*producer, R"({"n":2})");

  const auto dead = receive_n(*dead_letters, 1);
  BOOST_REQUIRE_EQUAL(dead.size(), 1u);
  check_decode_dead_letter(dead[0], "not json {", topic, "invalid_data");
  BOOST_TEST(dead[0].attributes.at("sent_as") == "typed");
  BOOST_REQUIRE(wait_until<CapturingSink::Shared>(
      *shared, [](const auto& s) { return s.records.size() >= 2; }));
  BOOST_REQUIRE(broker.wait_for_counters(
      topic, [](const testkit::TopicCounters& c) { return c.acked >= 3; }, 30s));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.dead_lettered == 1u);
  BOOST_TEST(drained->status.processed == 2u);
  BOOST_TEST(drained->status.retried == 0u);  // a payload that does not decode never will
  BOOST_TEST(payloads_of(*shared) == (std::vector<std::string>{R"({"n":1})", R"({"n":2})"}));
}

BOOST_FIXTURE_TEST_CASE(truncated_avro_is_dead_lettered_at_the_decode_stage, Fixture) {
  const std::string topic = "/default/avro-events";
  broker.create_topic(topic, true);
  auto shared = std::make_shared<CapturingSink::Shared>();
  const auto runtime = start_sink(topic, "avro-sink", shared);
  auto producer =
      typed_producer(topic, "avro-events-value", "avro",
                     R"({"type":"record","name":"Event","fields":[{"name":"id","type":"long"},)"
                     R"({"name":"name","type":"string"}]})");
  send(*producer, std::string("\x02\x06"
                              "abc",
                              5));  // {"id":1,"name":"abc"}
  send(*producer, std::string("\x04\x06"
                              "a",
                              3));  // the string is cut short
  const auto dead = receive_n(*dead_letters, 1);
  BOOST_REQUIRE_EQUAL(dead.size(), 1u);
  check_decode_dead_letter(dead[0],
                           std::string("\x04\x06"
                                       "a",
                                       3),
                           topic, "invalid_data");
  BOOST_REQUIRE(
      wait_until<CapturingSink::Shared>(*shared, [](const auto& s) { return !s.records.empty(); }));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.dead_lettered == 1u);
  BOOST_TEST(drained->status.processed == 1u);
  std::lock_guard lock(shared->mutex);
  BOOST_REQUIRE_EQUAL(shared->records.size(), 1u);
  BOOST_REQUIRE(shared->records[0].decoded_value() != nullptr);
  BOOST_TEST(shared->records[0].decoded_value()->at("name") == "abc");
}

namespace {

// Publishes one message with a schema id of our choosing through the raw gRPC api (the client
// only stamps ids the registry gave it). Returns what went wrong, if anything.
std::optional<std::string> send_with_schema_id(const std::string& address, const std::string& topic,
                                               const std::string& payload,
                                               std::uint64_t schema_id) {
  auto channel = grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = danube::ProducerService::NewStub(channel);
  danube::ProducerRequest create;
  create.set_request_id(1);
  create.set_producer_name("raw-producer");
  create.set_topic_name(topic);
  create.set_dispatch_strategy(danube::Reliable);
  danube::ProducerResponse created;
  {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + 10s);
    const auto status = stub->CreateProducer(&context, create, &created);
    if (!status.ok()) return "CreateProducer: " + status.error_message();
  }
  danube::StreamMessage message;
  message.set_request_id(1);
  message.mutable_msg_id()->set_producer_id(created.producer_id());
  message.mutable_msg_id()->set_topic_name(topic);
  message.mutable_msg_id()->set_broker_addr(address);
  message.set_payload(payload);
  message.set_publish_time(
      static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count()));
  message.set_producer_name("raw-producer");
  message.set_schema_id(schema_id);
  message.set_schema_version(1);
  (*message.mutable_attributes())["sent_as"] = "raw";
  danube::MessageResponse response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + 10s);
  const auto status = stub->SendMessage(&context, message, &response);
  if (!status.ok()) return "SendMessage: " + status.error_message();
  return std::nullopt;
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_schema_id_missing_from_the_registry_is_dead_lettered, Fixture) {
  const std::string topic = "/default/orphans";
  broker.create_topic(topic, true);
  auto shared = std::make_shared<CapturingSink::Shared>();
  const auto runtime = start_sink(topic, "orphan-sink", shared);
  constexpr std::uint64_t kUnknownSchemaId = 987'654'321;
  const auto failure = send_with_schema_id(broker.address(), topic, R"({"n":7})", kUnknownSchemaId);
  BOOST_REQUIRE_MESSAGE(!failure, failure.value_or(""));
  produce(*client, topic, 1, "plain-");  // no schema: processed as usual

  const auto dead = receive_n(*dead_letters, 1);
  BOOST_REQUIRE_EQUAL(dead.size(), 1u);
  check_decode_dead_letter(dead[0], R"({"n":7})", topic, "danube");
  BOOST_TEST(dead[0].attributes.at("sent_as") == "raw");
  BOOST_TEST(dead[0].attributes.at("dlq.error_message").find(std::to_string(kUnknownSchemaId)) !=
             std::string::npos);
  BOOST_REQUIRE(
      wait_until<CapturingSink::Shared>(*shared, [](const auto& s) { return !s.records.empty(); }));
  BOOST_REQUIRE(broker.wait_for_counters(
      topic, [](const testkit::TopicCounters& c) { return c.acked >= 2; }, 30s));
  const auto drained = drain_and_wait(system, runtime);
  BOOST_REQUIRE(drained);
  BOOST_TEST(drained->status.dead_lettered == 1u);
  BOOST_TEST(drained->status.processed == 1u);
  BOOST_TEST(payloads_of(*shared) == std::vector<std::string>{"plain-0"});
}
