// [[schemas]] through the runtime: a source with a [[schemas]] entry registers the schema
// file in the broker's registry at start and publishes every record of that topic encoded by
// the schema and stamped with its id; a sink expecting that subject looks the schema up and
// hands its connector records with the schema info and the decoded value. JSON Schema and
// Avro (binary on the wire).
#include <boost/test/unit_test.hpp>
#include <fstream>
#include <nlohmann/json.hpp>

#include "danube/services/avro.hpp"
#include "runtime_paths_support.hpp"
#include "runtime_test_support.hpp"

using namespace danube;
using namespace danube::runtime;
using namespace danube::runtime::test;
using namespace danube::runtime::paths;
using namespace std::chrono_literals;
using nlohmann::json;

namespace {

struct Fixture {
  Fixture() {
    broker.start();
    client::ClientOptions options;
    options.service_url = broker.service_url();
    client.emplace(client::DanubeClient::create(options).value());
  }
  testkit::EmbeddedBroker broker;
  std::optional<client::DanubeClient> client;
  TempDirectory files;
  caf::actor_system system{system_config()};
  RuntimeGuard runtimes{system};
};

struct Delivered {
  std::vector<connect::SinkRecord> records;
  client::RegisteredSchema registered;
};

// A sink expecting `subject` on `topic`, then a source publishing `values` there with the
// [[schemas]] entry {subject, type, definition}; returns what the sink got and what the
// registry holds.
Delivered typed_round_trip(Fixture& f, const std::string& topic, const std::string& subject,
                           connect::SchemaType type, const std::string& definition,
                           const std::vector<json>& values) {
  f.broker.create_topic(topic, true);
  const auto schema_file = f.files.path / (subject + ".schema");
  {
    std::ofstream out(schema_file);
    out << definition;
  }

  auto received = std::make_shared<CapturingSink::Shared>();
  auto expecting = subscription(topic, subject + "-sink");
  expecting.expected_schema_subject = subject;
  const auto sink = f.runtimes.add(
      spawn_sink(f.system, std::make_unique<CapturingSink>(std::vector{expecting}, received),
                 fast_config(f.broker.service_url(), subject + "-sink")));
  BOOST_REQUIRE(subscribed(f.broker, topic, subject + "-sink"));

  auto shared = std::make_shared<ScriptedSource::Shared>();
  for (std::size_t i = 0; i < values.size(); ++i) {
    shared->push({connect::SourceRecord::from_json("", values[i]), connect::Offset("t", i)});
  }
  auto config = source_config(f.broker.service_url(), subject + "-source", f.files.path);
  connect::SchemaConfig schema;
  schema.subject = subject;
  schema.schema_type = type;
  schema.schema_file = schema_file;
  config.schemas.push_back(connect::SchemaMapping{topic, schema});
  const auto source =
      f.runtimes.add(spawn_source(f.system,
                                  std::make_unique<ScriptedSource>(
                                      shared, std::vector{connect::ProducerConfig(topic, 0, true)}),
                                  config));

  Delivered delivered;
  const bool all = wait_until<CapturingSink::Shared>(
      *received, [&](const auto& s) { return s.records.size() >= values.size(); });
  const auto source_end = drain_and_wait(f.system, source);
  const auto sink_end = drain_and_wait(f.system, sink);
  BOOST_REQUIRE(all);
  BOOST_REQUIRE(source_end && sink_end);
  BOOST_TEST(source_end->status.processed == values.size());
  BOOST_TEST(sink_end->status.processed == values.size());
  BOOST_TEST(sink_end->status.dead_lettered == 0u);
  {
    std::lock_guard lock(received->mutex);
    delivered.records = received->records;
  }
  auto latest = f.client->schema_registry().get_latest_schema(subject);
  BOOST_REQUIRE_MESSAGE(latest.ok(), "the source did not register " << subject);
  delivered.registered = latest.value();
  return delivered;
}

// The value each record carries, by its "id".
void check_records(const Delivered& delivered, const std::string& subject, connect::SchemaType type,
                   const std::vector<json>& values) {
  BOOST_REQUIRE_EQUAL(delivered.records.size(), values.size());
  std::set<std::int64_t> ids;
  for (const auto& record : delivered.records) {
    BOOST_REQUIRE(record.schema().has_value());  // the message carried the schema id
    BOOST_TEST(record.schema()->id == delivered.registered.schema_id);
    BOOST_TEST(record.schema()->version == delivered.registered.version);
    BOOST_TEST(record.schema()->subject == subject);
    BOOST_CHECK(record.schema()->type == std::optional(type));
    BOOST_REQUIRE(record.decoded_value() != nullptr);  // decoded by the sink's runtime
    const json& value = *record.decoded_value();
    const auto id = value.at("id").get<std::int64_t>();
    BOOST_REQUIRE(id >= 0 && static_cast<std::size_t>(id) < values.size());
    BOOST_TEST(value == values[static_cast<std::size_t>(id)]);
    BOOST_TEST(record.as_json() == values[static_cast<std::size_t>(id)]);
    ids.insert(id);
  }
  BOOST_TEST(ids.size() == values.size());
}

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_json_schema_entry_is_registered_stamped_and_decoded, Fixture) {
  const std::string definition =
      R"({"type":"object","properties":{"id":{"type":"integer"},"item":{"type":"string"}},)"
      R"("required":["id","item"]})";
  std::vector<json> values;
  for (int i = 0; i < 10; ++i)
    values.push_back({{"id", i}, {"item", "widget-" + std::to_string(i)}});
  const auto delivered = typed_round_trip(*this, "/default/json-orders", "json-orders",
                                          connect::SchemaType::json_schema, definition, values);
  BOOST_TEST(delivered.registered.schema_type == "json_schema");
  BOOST_TEST(delivered.registered.definition == definition);  // the file, as written
  BOOST_TEST(delivered.registered.version == 1u);
  check_records(delivered, "json-orders", connect::SchemaType::json_schema, values);
  for (const auto& record : delivered.records) {
    // JSON Schema travels as compact JSON text.
    BOOST_TEST(std::string(record.payload().view()) == record.decoded_value()->dump());
  }
}

BOOST_FIXTURE_TEST_CASE(an_avro_entry_is_registered_encoded_as_avro_binary_and_decoded, Fixture) {
  const std::string definition = R"({"type":"record","name":"Order","namespace":"shop","fields":[)"
                                 R"({"name":"id","type":"long"},{"name":"item","type":"string"},)"
                                 R"({"name":"express","type":"boolean"}]})";
  std::vector<json> values;
  for (int i = 0; i < 10; ++i) {
    values.push_back({{"id", i}, {"item", "crate-" + std::to_string(i)}, {"express", i % 2 == 0}});
  }
  const auto delivered = typed_round_trip(*this, "/default/avro-orders", "avro-orders",
                                          connect::SchemaType::avro, definition, values);
  BOOST_TEST(delivered.registered.schema_type == "avro");
  BOOST_TEST(delivered.registered.definition == definition);
  check_records(delivered, "avro-orders", connect::SchemaType::avro, values);
  const auto avro = services::avro::Schema::parse(definition);
  for (const auto& record : delivered.records) {
    // The payload on the wire is the Avro binary encoding of the value, not JSON text.
    BOOST_TEST(std::string(record.payload().view()) == avro.encode(*record.decoded_value()));
    BOOST_TEST(std::string(record.payload().view()) != record.decoded_value()->dump());
  }
}
