#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace danube::testkit::internal {

// How Danube 0.15's schema registry names, fingerprints and answers a registered schema
// (docs/embedded-broker.md). `type` below is always a name normalize_schema_type returned.

// The registry's name for the schema type a registration gives: case-insensitive, with Danube's
// aliases (int64, int, float, double -> number; json -> json_schema; proto -> protobuf); bytes,
// string, number, avro, json_schema or protobuf. nullopt for anything else.
std::optional<std::string> normalize_schema_type(std::string_view type);

// The fingerprint Danube deduplicates registrations on: the type's name for bytes, string and
// number (their definition is not kept); "sha256:<hex>" of the definition's serde_json_text for
// json_schema and avro; of the definition as given for protobuf, and for a json_schema or avro
// definition that is not JSON. Danube hashes an Avro schema as apache_avro re-serializes it,
// which is the same text only for schemas already in that form (no field "doc" or "order", no
// {"type": "string"} where "string" will do, ...).
std::string schema_fingerprint(std::string_view type, std::string_view definition);

// schema_definition as GetSchema and GetLatestSchema answer it: Danube's SchemaDefinition
// written by serde_json. "Bytes", "String" or "Number" (JSON strings), or
// {"Avro":{"raw_schema":D,"fingerprint":F}}, {"JsonSchema":{"raw_schema":D,"fingerprint":F}},
// {"Protobuf":{"raw_proto":D,"message_name":"DefaultMessage","fingerprint":F}}, fields in that
// order. A type it does not know gets `definition` back as it is.
std::string schema_definition_envelope(std::string_view type, std::string_view definition,
                                       std::string_view fingerprint);

}  // namespace danube::testkit::internal
