#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "danube/connect/schema_type.hpp"

namespace danube::connect {

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

// The schema a producer publishes with.
struct SchemaConfig {
  std::string subject;
  SchemaType schema_type = SchemaType::json_schema;
  // The schema definition (JSON Schema, Avro JSON, .proto text). Required for json_schema,
  // avro and protobuf; empty for string, number and bytes.
  std::filesystem::path schema_file;
  // Register the schema (or a changed schema file as a new version) when needed; when false
  // the subject must already exist in the registry.
  bool auto_register = true;
  VersionStrategy version_strategy;
  // For protobuf: the fully qualified message to encode ("pkg.Order"); empty = the first
  // message defined in the file.
  std::string message_type;

  friend bool operator==(const SchemaConfig&, const SchemaConfig&) = default;
};

// True for the types whose definition lives in a file (json_schema, avro, protobuf).
bool schema_type_needs_definition(SchemaType type);

}  // namespace danube::connect
