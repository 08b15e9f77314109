// danube_schema.SchemaRegistry on the client port, topic schema bindings, and
// danube.StorageService.ListSegmentDescriptors.

#include <boost/test/unit_test.hpp>
#include <set>

#include "broker_test_support.hpp"

namespace danube::testkit::test {
namespace {

using grpc::StatusCode;

const std::set<std::string>& normalized_names() {
  static const std::set<std::string> names = {"bytes", "string",      "number",
                                              "avro",  "json_schema", "protobuf"};
  return names;
}

const std::string kV1 =
    R"({"type":"object","properties":{"id":{"type":"string"}},"required":["id"]})";
const std::string kV2 =
    R"({"type":"object","properties":{"id":{"type":"string"},"note":{"type":"string"}},"required":["id"]})";
// Danube fingerprints a JSON Schema by its compact re-serialization with sorted keys.
const std::string kV1Fingerprint =
    "sha256:" +
    sha256_hex(R"({"properties":{"id":{"type":"string"}},"required":["id"],"type":"object"})");
const std::string kV2Fingerprint =
    "sha256:" +
    sha256_hex(
        R"({"properties":{"id":{"type":"string"},"note":{"type":"string"}},"required":["id"],"type":"object"})");

// GetSchema's schema_definition for a JSON Schema, as Danube writes it (serde_json).
std::string json_schema_envelope(const std::string& definition, const std::string& fingerprint) {
  std::string quoted;
  for (const char c : definition) {  // the test schemas need no escapes but these two
    if (c == '"' || c == '\\') quoted += '\\';
    quoted += c;
  }
  return R"({"JsonSchema":{"raw_schema":")" + quoted + R"(","fingerprint":")" + fingerprint +
         R"("}})";
}

// Calls one unary SchemaRegistry rpc with a fresh context.
template <class Request, class Response, class Method>
grpc::Status call(Client& client, Method method, const Request& request, Response* response) {
  grpc::ClientContext context;
  client.prepare(context);
  return (client.schemas.get()->*method)(&context, request, response);
}

grpc::Status register_schema(Client& client, const std::string& subject, const std::string& type,
                             const std::string& definition,
                             danube_schema::RegisterSchemaResponse* response) {
  danube_schema::RegisterSchemaRequest request;
  request.set_subject(subject);
  request.set_schema_type(type);
  request.set_schema_definition(definition);
  request.set_description("desc of " + subject);
  request.set_created_by("tester");
  request.add_tags("team-a");
  return call(client, &danube_schema::SchemaRegistry::Stub::RegisterSchema, request, response);
}

danube_schema::CheckCompatibilityResponse check(Client& client, const std::string& subject,
                                                const std::string& type,
                                                const std::string& definition,
                                                std::optional<std::string> mode = {}) {
  danube_schema::CheckCompatibilityRequest request;
  request.set_subject(subject);
  request.set_schema_type(type);
  request.set_new_schema_definition(definition);
  if (mode) request.set_compatibility_mode(*mode);
  danube_schema::CheckCompatibilityResponse response;
  const auto status =
      call(client, &danube_schema::SchemaRegistry::Stub::CheckCompatibility, request, &response);
  BOOST_REQUIRE_MESSAGE(status.ok(), "CheckCompatibility failed: " << status.error_message());
  return response;
}

BOOST_AUTO_TEST_CASE(register_versions_ids_and_fingerprints) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  danube_schema::RegisterSchemaResponse first, same, second, other;
  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV1, &first).ok());
  BOOST_TEST(first.version() == 1U);
  BOOST_TEST(first.is_new_version());
  BOOST_TEST(first.fingerprint() == kV1Fingerprint);

  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV1, &same).ok());
  BOOST_TEST(same.version() == 1U);
  BOOST_TEST(!same.is_new_version());
  BOOST_TEST(same.schema_id() == first.schema_id());

  // Spacing and key order do not make a new version: the fingerprint is of the parsed schema.
  const std::string v1_reformatted =
      R"({ "required": ["id"], "properties": { "id": { "type": "string" } }, "type": "object" })";
  danube_schema::RegisterSchemaResponse reformatted;
  BOOST_REQUIRE(
      register_schema(client, "orders", "json_schema", v1_reformatted, &reformatted).ok());
  BOOST_TEST(reformatted.version() == 1U);
  BOOST_TEST(!reformatted.is_new_version());
  BOOST_TEST(reformatted.fingerprint() == kV1Fingerprint);

  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV2, &second).ok());
  BOOST_TEST(second.version() == 2U);
  BOOST_TEST(second.is_new_version());
  BOOST_TEST(second.schema_id() == first.schema_id());  // one id per subject
  BOOST_TEST(second.fingerprint() == kV2Fingerprint);

  BOOST_REQUIRE(register_schema(client, "payments", "string", "", &other).ok());
  BOOST_TEST(other.schema_id() != first.schema_id());
  BOOST_TEST(other.version() == 1U);
  BOOST_TEST(other.fingerprint() == "string");
  // Danube keeps no definition for string, bytes and number: any other is the same schema.
  danube_schema::RegisterSchemaResponse other_again;
  BOOST_REQUIRE(register_schema(client, "payments", "string", "utf-8", &other_again).ok());
  BOOST_TEST(other_again.version() == 1U);
  BOOST_TEST(!other_again.is_new_version());
}

// What GetLatestSchema answers for each type, registered under an alias Danube accepts: the
// normalized type name and the definition in Danube's envelope. The expected envelopes are the
// real Danube 0.15.1 broker's answers for the same registrations, byte for byte.
BOOST_AUTO_TEST_CASE(answers_carry_normalized_types_and_danube_envelopes) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  struct Case {
    std::string subject, type, definition, answered_type, answered_definition;
  };
  const std::vector<Case> cases = {
      {"j", "JSON", R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})",
       "json_schema",
       R"({"JsonSchema":{"raw_schema":"{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"integer\"}},\"required\":[\"id\"]}","fingerprint":"sha256:52ae9b42467ac0a18b5ed957ca40c1a5be794d01551127ff63b2eeebae215c7f"}})"},
      {"a", "Avro",
       R"({"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]})",
       "avro",
       R"({"Avro":{"raw_schema":"{\"type\":\"record\",\"name\":\"User\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"name\",\"type\":\"string\"}]}","fingerprint":"sha256:994a64ae2ddf87c3f797b2f8fc1b455bbf04131e15112392363387f041572143"}})"},
      {"p", "proto", "syntax = \"proto3\";\nmessage User { string name = 1; }\n", "protobuf",
       R"({"Protobuf":{"raw_proto":"syntax = \"proto3\";\nmessage User { string name = 1; }\n","message_name":"DefaultMessage","fingerprint":"sha256:209fdf4ab96de39689570a327b4910e68c288b53d116772e105be74b4e087e6b"}})"},
      {"b", "bytes", "", "bytes", R"("Bytes")"},
      {"s", "String", "anything", "string", R"("String")"},
      {"n", "int64", "", "number", R"("Number")"},
      {"d", "DOUBLE", "x", "number", R"("Number")"},
  };
  for (const auto& c : cases) {
    danube_schema::RegisterSchemaResponse registered;
    BOOST_REQUIRE_MESSAGE(
        register_schema(client, c.subject, c.type, c.definition, &registered).ok(), c.type);
    danube_schema::GetLatestSchemaRequest latest;
    latest.set_subject(c.subject);
    danube_schema::GetSchemaResponse answer;
    BOOST_REQUIRE(
        call(client, &danube_schema::SchemaRegistry::Stub::GetLatestSchema, latest, &answer).ok());
    BOOST_TEST(answer.schema_type() == c.answered_type, c.type);
    BOOST_TEST(answer.schema_definition() == c.answered_definition, c.type);
    BOOST_TEST(answer.fingerprint() == registered.fingerprint(), c.type);
  }
  // Aliases are accepted wherever a type is given, and a type of another spelling is the same.
  BOOST_TEST(check(client, "j", "json_schema",
                   R"({"type":"object","properties":{"id":{"type":"integer"}},"required":["id"]})")
                 .is_compatible());
  BOOST_TEST(check(client, "n", "Float", "").is_compatible());
  BOOST_TEST(!check(client, "n", "string", "").is_compatible());
  danube_schema::ListSubjectsResponse subjects;
  BOOST_REQUIRE(call(client, &danube_schema::SchemaRegistry::Stub::ListSubjects,
                     danube_schema::ListSubjectsRequest{}, &subjects)
                    .ok());
  for (const auto& subject : subjects.subjects()) {
    BOOST_TEST(normalized_names().count(subject.schema_type()) == 1U, subject.schema_type());
  }
}

BOOST_AUTO_TEST_CASE(bad_input_is_invalid_argument) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  danube_schema::RegisterSchemaResponse response;
  const auto bad_type = register_schema(client, "s", "yaml", "x", &response);
  BOOST_TEST(bad_type.error_code() == StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(bad_type.error_message().find("yaml") != std::string::npos);
  BOOST_TEST(register_schema(client, "", "string", "", &response).error_code() ==
             StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(register_schema(client, "s", "json_schema", "{not json", &response).error_code() ==
             StatusCode::INVALID_ARGUMENT);
  for (const std::string type : {"bytes", "string", "number", "avro", "protobuf"}) {
    BOOST_TEST(register_schema(client, "type-" + type, type, "def", &response).ok());
  }
  // Danube reads avro, json_schema and protobuf definitions as UTF-8 text.
  const auto not_utf8 = register_schema(client, "latin1", "protobuf", "// caf\xe9", &response);
  BOOST_TEST(not_utf8.error_code() == StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(not_utf8.error_message().find("UTF-8") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(deeply_nested_json_schema_is_invalid_argument_and_the_broker_serves_on) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const std::string hostile = nested_json_object(70'000);
  BOOST_TEST(hostile.size() > 400'000U);
  const std::string limit = "JSON nesting deeper than 128 levels";

  const auto registered = register_json_schema(client, "hostile", hostile);
  BOOST_TEST(registered.error_code() == StatusCode::INVALID_ARGUMENT);
  BOOST_TEST(registered.error_message().find(limit) != std::string::npos,
             registered.error_message());

  // CheckCompatibility parses the candidate before it looks the subject up.
  BOOST_REQUIRE(register_json_schema(client, "orders", kV1).ok());
  for (const std::string subject : {"orders", "absent"}) {
    const auto checked = check_json_schema(client, subject, hostile);
    BOOST_TEST(checked.error_code() == StatusCode::INVALID_ARGUMENT, subject);
    BOOST_TEST(checked.error_message().find(limit) != std::string::npos, checked.error_message());
  }

  // Still serving, and nothing of the hostile schema was stored.
  danube_schema::RegisterSchemaResponse next;
  BOOST_REQUIRE(register_json_schema(client, "orders", kV2, &next).ok());
  BOOST_TEST(next.version() == 2U);
  danube_schema::GetLatestSchemaRequest latest;
  latest.set_subject("hostile");
  danube_schema::GetSchemaResponse found;
  BOOST_TEST(call(client, &danube_schema::SchemaRegistry::Stub::GetLatestSchema, latest, &found)
                 .error_code() == StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(json_schema_nesting_limit_is_128_levels) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  BOOST_TEST(register_json_schema(client, "deep", nested_json_object(128)).ok());
  BOOST_TEST(register_json_schema(client, "deeper", nested_json_object(129)).error_code() ==
             StatusCode::INVALID_ARGUMENT);
  // Brackets inside strings are not nesting.
  const std::string bracey = R"({"description":")" + std::string(1000, '[') + R"("})";
  BOOST_TEST(register_json_schema(client, "bracey", bracey).ok());
  danube_schema::CheckCompatibilityResponse compatible;
  BOOST_REQUIRE(check_json_schema(client, "deep", nested_json_object(128), &compatible).ok());
  BOOST_TEST(compatible.is_compatible());
}

BOOST_AUTO_TEST_CASE(get_by_id_version_latest_and_list_versions) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  danube_schema::RegisterSchemaResponse v1, v2;
  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV1, &v1).ok());
  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV2, &v2).ok());

  danube_schema::GetSchemaRequest by_id;
  by_id.set_schema_id(v1.schema_id());
  danube_schema::GetSchemaResponse latest;
  BOOST_REQUIRE(call(client, &danube_schema::SchemaRegistry::Stub::GetSchema, by_id, &latest).ok());
  BOOST_TEST(latest.version() == 2U);
  BOOST_TEST(latest.subject() == "orders");
  BOOST_TEST(latest.schema_definition() == json_schema_envelope(kV2, kV2Fingerprint));
  BOOST_TEST(latest.fingerprint() == kV2Fingerprint);
  BOOST_TEST(latest.schema_type() == "json_schema");
  BOOST_TEST(latest.compatibility_mode() == "backward");
  BOOST_TEST(latest.created_by() == "tester");
  BOOST_TEST(latest.description() == "desc of orders");
  BOOST_TEST(latest.tags_size() == 1);
  BOOST_TEST(latest.created_at() > 0U);

  by_id.set_version(1);
  danube_schema::GetSchemaResponse first;
  BOOST_REQUIRE(call(client, &danube_schema::SchemaRegistry::Stub::GetSchema, by_id, &first).ok());
  BOOST_TEST(first.schema_definition() == json_schema_envelope(kV1, kV1Fingerprint));
  by_id.set_version(9);
  BOOST_TEST(
      call(client, &danube_schema::SchemaRegistry::Stub::GetSchema, by_id, &first).error_code() ==
      StatusCode::NOT_FOUND);
  danube_schema::GetSchemaRequest unknown;
  unknown.set_schema_id(987654);
  BOOST_TEST(
      call(client, &danube_schema::SchemaRegistry::Stub::GetSchema, unknown, &first).error_code() ==
      StatusCode::NOT_FOUND);

  danube_schema::GetLatestSchemaRequest latest_request;
  latest_request.set_subject("orders");
  danube_schema::GetSchemaResponse latest_by_subject;
  BOOST_REQUIRE(call(client, &danube_schema::SchemaRegistry::Stub::GetLatestSchema, latest_request,
                     &latest_by_subject)
                    .ok());
  BOOST_TEST(latest_by_subject.version() == 2U);
  latest_request.set_subject("nope");
  BOOST_TEST(call(client, &danube_schema::SchemaRegistry::Stub::GetLatestSchema, latest_request,
                  &latest_by_subject)
                 .error_code() == StatusCode::NOT_FOUND);

  danube_schema::ListVersionsRequest list;
  list.set_subject("orders");
  danube_schema::ListVersionsResponse versions;
  BOOST_REQUIRE(
      call(client, &danube_schema::SchemaRegistry::Stub::ListVersions, list, &versions).ok());
  BOOST_REQUIRE(versions.versions_size() == 2);
  BOOST_TEST(versions.versions(0).version() == 1U);
  BOOST_TEST(versions.versions(1).fingerprint() == kV2Fingerprint);
  BOOST_TEST(versions.versions(1).schema_id() == v1.schema_id());
  list.set_subject("nope");
  BOOST_TEST(call(client, &danube_schema::SchemaRegistry::Stub::ListVersions, list, &versions)
                 .error_code() == StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(compatibility_modes_check_required_fields_and_types) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  danube_schema::RegisterSchemaResponse registered;
  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV1, &registered).ok());

  const std::string adds_required =
      R"({"properties":{"id":{"type":"string"},"total":{"type":"number"}},"required":["id","total"]})";
  const std::string drops_required = R"({"properties":{"other":{"type":"string"}}})";
  const std::string changes_type = R"({"properties":{"id":{"type":"integer"}},"required":["id"]})";

  BOOST_TEST(check(client, "orders", "json_schema", kV2).is_compatible());      // optional field
  const auto backward = check(client, "orders", "json_schema", adds_required);  // default mode
  BOOST_TEST(!backward.is_compatible());
  BOOST_REQUIRE(backward.errors_size() == 1);
  BOOST_TEST(backward.errors(0).find("'total'") != std::string::npos);
  BOOST_TEST(check(client, "orders", "json_schema", adds_required, "forward").is_compatible());
  BOOST_TEST(!check(client, "orders", "json_schema", drops_required, "forward").is_compatible());
  BOOST_TEST(check(client, "orders", "json_schema", drops_required, "backward").is_compatible());
  BOOST_TEST(!check(client, "orders", "json_schema", adds_required, "full").is_compatible());
  BOOST_TEST(!check(client, "orders", "json_schema", changes_type, "backward").is_compatible());
  BOOST_TEST(check(client, "orders", "json_schema", changes_type, "none").is_compatible());
  BOOST_TEST(!check(client, "orders", "avro", "{}").is_compatible());  // type change
  BOOST_TEST(check(client, "orders", "avro", "{}", "none").is_compatible());

  danube_schema::RegisterSchemaResponse plain;
  BOOST_REQUIRE(register_schema(client, "text", "string", "", &plain).ok());
  BOOST_TEST(check(client, "text", "string", "anything").is_compatible());
  BOOST_TEST(!check(client, "text", "bytes", "").is_compatible());

  // Registration enforces the subject's mode.
  danube_schema::RegisterSchemaResponse rejected;
  BOOST_TEST(
      register_schema(client, "orders", "json_schema", adds_required, &rejected).error_code() ==
      StatusCode::FAILED_PRECONDITION);

  danube_schema::CheckCompatibilityRequest bad_mode;
  bad_mode.set_subject("orders");
  bad_mode.set_schema_type("json_schema");
  bad_mode.set_new_schema_definition(kV1);
  bad_mode.set_compatibility_mode("sideways");
  danube_schema::CheckCompatibilityResponse ignored;
  BOOST_TEST(
      call(client, &danube_schema::SchemaRegistry::Stub::CheckCompatibility, bad_mode, &ignored)
          .error_code() == StatusCode::INVALID_ARGUMENT);
  bad_mode.clear_compatibility_mode();
  bad_mode.set_subject("nope");
  BOOST_TEST(
      call(client, &danube_schema::SchemaRegistry::Stub::CheckCompatibility, bad_mode, &ignored)
          .error_code() == StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(set_mode_delete_version_and_list_subjects) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  danube_schema::RegisterSchemaResponse v1, v2;
  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV1, &v1).ok());
  BOOST_REQUIRE(register_schema(client, "orders", "json_schema", kV2, &v2).ok());

  danube_schema::SetCompatibilityModeRequest mode;
  mode.set_subject("orders");
  mode.set_compatibility_mode("none");
  danube_schema::SetCompatibilityModeResponse mode_response;
  BOOST_REQUIRE(
      call(client, &danube_schema::SchemaRegistry::Stub::SetCompatibilityMode, mode, &mode_response)
          .ok());
  BOOST_TEST(mode_response.success());
  mode.set_compatibility_mode("bogus");
  BOOST_TEST(
      call(client, &danube_schema::SchemaRegistry::Stub::SetCompatibilityMode, mode, &mode_response)
          .error_code() == StatusCode::INVALID_ARGUMENT);
  mode.set_subject("nope");
  mode.set_compatibility_mode("full");
  BOOST_TEST(
      call(client, &danube_schema::SchemaRegistry::Stub::SetCompatibilityMode, mode, &mode_response)
          .error_code() == StatusCode::NOT_FOUND);

  danube_schema::DeleteSchemaVersionRequest remove;
  remove.set_subject("orders");
  remove.set_version(2);
  danube_schema::DeleteSchemaVersionResponse removed;
  BOOST_REQUIRE(
      call(client, &danube_schema::SchemaRegistry::Stub::DeleteSchemaVersion, remove, &removed)
          .ok());
  BOOST_TEST(removed.success());
  BOOST_TEST(
      call(client, &danube_schema::SchemaRegistry::Stub::DeleteSchemaVersion, remove, &removed)
          .error_code() == StatusCode::NOT_FOUND);

  danube_schema::ListSubjectsResponse subjects;
  BOOST_REQUIRE(call(client, &danube_schema::SchemaRegistry::Stub::ListSubjects,
                     danube_schema::ListSubjectsRequest{}, &subjects)
                    .ok());
  BOOST_REQUIRE(subjects.subjects_size() == 1);
  BOOST_TEST(subjects.subjects(0).subject() == "orders");
  BOOST_TEST(subjects.subjects(0).latest_version() == 1U);  // version 2 was deleted
  BOOST_TEST(subjects.subjects(0).compatibility_mode() == "none");
  BOOST_TEST(subjects.subjects(0).schema_type() == "json_schema");
  BOOST_TEST(subjects.subjects(0).schema_id() == v1.schema_id());
}

BOOST_AUTO_TEST_CASE(topic_schema_configuration_is_stored_and_enforced) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  danube_schema::RegisterSchemaResponse registered;
  BOOST_REQUIRE(register_schema(client, "events", "json_schema", kV1, &registered).ok());
  const auto producer = client.producer("/default/events", "p", false);

  danube_schema::ConfigureTopicSchemaRequest configure;
  configure.set_topic_name("/default/events");
  configure.set_schema_subject("events");
  configure.set_validation_policy("enforce");
  configure.set_enable_payload_validation(true);
  danube_schema::ConfigureTopicSchemaResponse configured;
  BOOST_REQUIRE(call(client, &danube_schema::SchemaRegistry::Stub::ConfigureTopicSchema, configure,
                     &configured)
                    .ok());
  BOOST_TEST(configured.success());

  danube_schema::GetTopicSchemaConfigRequest get;
  get.set_topic_name("/default/events");
  danube_schema::GetTopicSchemaConfigResponse config;
  BOOST_REQUIRE(
      call(client, &danube_schema::SchemaRegistry::Stub::GetTopicSchemaConfig, get, &config).ok());
  BOOST_TEST(config.schema_subject() == "events");
  BOOST_TEST(config.validation_policy() == "enforce");
  BOOST_TEST(config.enable_payload_validation());
  BOOST_TEST(config.schema_id() == registered.schema_id());

  // enforce: no schema id, a foreign schema id, or a non-JSON payload are refused.
  auto message = client.message(producer, "/default/events", R"({"id":"1"})");
  BOOST_TEST(client.send(message).error_code() == StatusCode::PERMISSION_DENIED);
  message.set_schema_id(registered.schema_id() + 100);
  BOOST_TEST(client.send(message).error_code() == StatusCode::PERMISSION_DENIED);
  message.set_schema_id(registered.schema_id());
  message.set_schema_version(1);
  BOOST_TEST(client.send(message).ok());
  message.set_payload("not json");
  BOOST_TEST(client.send(message).error_code() == StatusCode::PERMISSION_DENIED);
  // A payload nested past the JSON limit is refused before it is parsed.
  message.set_payload(std::string(100'000, '[') + std::string(100'000, ']'));
  const auto deep = client.send(message);
  BOOST_TEST(deep.error_code() == StatusCode::PERMISSION_DENIED);
  BOOST_TEST(deep.error_message().find("nesting deeper than 128") != std::string::npos);

  danube_schema::UpdateTopicValidationPolicyRequest update;
  update.set_topic_name("/default/events");
  update.set_validation_policy("warn");
  danube_schema::UpdateTopicValidationPolicyResponse updated;
  BOOST_REQUIRE(call(client, &danube_schema::SchemaRegistry::Stub::UpdateTopicValidationPolicy,
                     update, &updated)
                    .ok());
  BOOST_TEST(client.send(message).ok());  // warn: logged, accepted
  update.set_validation_policy("strict");
  BOOST_TEST(call(client, &danube_schema::SchemaRegistry::Stub::UpdateTopicValidationPolicy, update,
                  &updated)
                 .error_code() == StatusCode::INVALID_ARGUMENT);
  update.set_topic_name("/default/absent");
  update.set_validation_policy("none");
  BOOST_TEST(call(client, &danube_schema::SchemaRegistry::Stub::UpdateTopicValidationPolicy, update,
                  &updated)
                 .error_code() == StatusCode::NOT_FOUND);
  get.set_topic_name("/default/absent");
  BOOST_TEST(call(client, &danube_schema::SchemaRegistry::Stub::GetTopicSchemaConfig, get, &config)
                 .error_code() == StatusCode::NOT_FOUND);
  configure.set_schema_subject("no-such-subject");
  BOOST_TEST(call(client, &danube_schema::SchemaRegistry::Stub::ConfigureTopicSchema, configure,
                  &configured)
                 .error_code() == StatusCode::NOT_FOUND);
}

BOOST_AUTO_TEST_CASE(producer_schema_ref_binds_the_topic_to_the_subject) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  BOOST_REQUIRE(client.create_producer("/default/bound", "p", true, nullptr, "bound-subject").ok());
  danube_schema::GetTopicSchemaConfigRequest get;
  get.set_topic_name("/default/bound");
  danube_schema::GetTopicSchemaConfigResponse config;
  BOOST_REQUIRE(
      call(client, &danube_schema::SchemaRegistry::Stub::GetTopicSchemaConfig, get, &config).ok());
  BOOST_TEST(config.schema_subject() == "bound-subject");
  BOOST_TEST(config.validation_policy() == "none");
  BOOST_TEST(config.schema_id() == 0U);  // not registered yet
}

BOOST_AUTO_TEST_CASE(segment_descriptors_describe_the_reliable_log) {
  RunningBroker fixture;
  Client client(fixture.broker.address());
  const auto producer = client.producer("/default/stored", "p", true);
  client.consumer("/default/stored", "c", "s", SubType::shared);  // keeps the log in memory
  for (int i = 0; i < 5; ++i)
    client.send_ok(producer, "/default/stored", "m");

  danube::ListSegmentDescriptorsRequest request;
  request.set_topic("/default/stored");
  danube::ListSegmentDescriptorsResponse response;
  {
    grpc::ClientContext context;
    client.prepare(context);
    BOOST_REQUIRE(client.storage->ListSegmentDescriptors(&context, request, &response).ok());
  }
  BOOST_REQUIRE(response.segments_size() == 1);
  BOOST_TEST(response.segments(0).start_offset() == 0U);
  BOOST_TEST(response.segments(0).end_offset() == 4U);
  BOOST_TEST(response.segments(0).size() > 0U);
  BOOST_TEST(!response.segments(0).etag().empty());

  request.set_after_offset(4);
  danube::ListSegmentDescriptorsResponse nothing_new;
  {
    grpc::ClientContext context;
    client.prepare(context);
    BOOST_REQUIRE(client.storage->ListSegmentDescriptors(&context, request, &nothing_new).ok());
  }
  BOOST_TEST(nothing_new.segments_size() == 0);

  request.set_topic("/default/absent");
  grpc::ClientContext context;
  client.prepare(context);
  BOOST_TEST(client.storage->ListSegmentDescriptors(&context, request, &response).error_code() ==
             StatusCode::NOT_FOUND);
}

}  // namespace
}  // namespace danube::testkit::test
