#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace danube::connect {

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

// Case-insensitive; "json" is accepted as an alias of json_schema. nullopt for anything else.
std::optional<SchemaType> parse_schema_type(std::string_view text);

// Which registered schema a received message was published with.
struct SchemaInfo {
  std::uint64_t id = 0;
  std::uint32_t version = 0;
  std::string subject;
  // nullopt when the registry reported a type this SDK does not know.
  std::optional<SchemaType> type;

  friend bool operator==(const SchemaInfo&, const SchemaInfo&) = default;
};

}  // namespace danube::connect
