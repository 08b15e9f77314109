#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "danube/connect/schema_type.hpp"

namespace danube::connect {

using danube::VersionStrategy;

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

}  // namespace danube::connect
