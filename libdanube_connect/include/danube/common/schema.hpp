#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace danube {

// The schema types of Danube's registry (lowercase strings on the wire).
enum class SchemaType {
  json_schema,
  string,
  number,
  bytes,
  avro,
  protobuf,
};

// "json_schema", "string", "number", "bytes", "avro", "protobuf".
std::string_view to_string(SchemaType type);
// Case-insensitive, with Danube's aliases: "json" for json_schema; "int64", "int", "float",
// "double" for number; "proto" for protobuf. nullopt for anything else.
std::optional<SchemaType> parse_schema_type(std::string_view text);
// True for the types whose definition lives in a file (json_schema, avro, protobuf).
bool schema_type_needs_definition(SchemaType type);

// Which version of a subject a producer publishes with. TOML: `version_strategy = "latest"`,
// `version_strategy = { pinned = 2 }` or `version_strategy = { minimum = 1 }`.
struct VersionStrategy {
  enum class Kind { latest, pinned, minimum };
  Kind kind = Kind::latest;
  std::uint32_t version = 0;  // for pinned and minimum

  static VersionStrategy latest() { return {}; }
  static VersionStrategy pinned(std::uint32_t v) { return {Kind::pinned, v}; }
  static VersionStrategy minimum(std::uint32_t v) { return {Kind::minimum, v}; }

  friend bool operator==(const VersionStrategy&, const VersionStrategy&) = default;
};

// "latest", "pinned 2", "minimum 1".
std::string to_string(const VersionStrategy& strategy);

// Which registered schema a received message was published with.
struct SchemaInfo {
  std::uint64_t id = 0;
  std::uint32_t version = 0;
  std::string subject;
  // nullopt when the registry reported a type this SDK does not know.
  std::optional<SchemaType> type;

  friend bool operator==(const SchemaInfo&, const SchemaInfo&) = default;
};

// The registry's records (package danube_schema), named after its calls.

struct RegisterSchemaRequest {
  std::string subject;
  std::string schema_type;  // lowercase registry spelling, e.g. "avro"
  std::string definition;
  std::string description;
  std::string created_by;
  std::vector<std::string> tags;
};

struct RegisterSchemaResult {
  std::uint64_t schema_id = 0;
  std::uint32_t version = 0;
  bool is_new_version = false;
  std::string fingerprint;
};

// One version of a subject as the registry stores it.
struct RegisteredSchema {
  std::uint64_t schema_id = 0;
  std::uint32_t version = 0;
  std::string subject;
  std::string schema_type;  // lowercase registry spelling, e.g. "avro"
  std::string definition;
  std::string description;
  std::uint64_t created_at = 0;
  std::string created_by;
  std::vector<std::string> tags;
  std::string fingerprint;
  std::string compatibility_mode;
};

struct SchemaVersionInfo {
  std::uint32_t version = 0;
  std::uint64_t schema_id = 0;
  std::string fingerprint;
  std::uint64_t created_at = 0;
  std::string created_by;
  std::string description;
};

struct CompatibilityResult {
  bool compatible = false;
  std::vector<std::string> errors;
};

}  // namespace danube
