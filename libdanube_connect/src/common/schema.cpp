#include "danube/common/schema.hpp"

#include <algorithm>
#include <cctype>

namespace danube {

std::string_view to_string(SchemaType type) {
  switch (type) {
    case SchemaType::json_schema:
      return "json_schema";
    case SchemaType::string:
      return "string";
    case SchemaType::number:
      return "number";
    case SchemaType::bytes:
      return "bytes";
    case SchemaType::avro:
      return "avro";
    case SchemaType::protobuf:
      return "protobuf";
  }
  return "unknown";
}

std::optional<SchemaType> parse_schema_type(std::string_view text) {
  std::string lower(text);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  // Danube's registry takes the same aliases (its SchemaType::from_str).
  if (lower == "json_schema" || lower == "json") return SchemaType::json_schema;
  if (lower == "string") return SchemaType::string;
  if (lower == "number" || lower == "int64" || lower == "int" || lower == "float" ||
      lower == "double") {
    return SchemaType::number;
  }
  if (lower == "bytes") return SchemaType::bytes;
  if (lower == "avro") return SchemaType::avro;
  if (lower == "protobuf" || lower == "proto") return SchemaType::protobuf;
  return std::nullopt;
}

bool schema_type_needs_definition(SchemaType type) {
  return type == SchemaType::json_schema || type == SchemaType::avro ||
         type == SchemaType::protobuf;
}

std::string to_string(const VersionStrategy& strategy) {
  switch (strategy.kind) {
    case VersionStrategy::Kind::latest:
      return "latest";
    case VersionStrategy::Kind::pinned:
      return "pinned " + std::to_string(strategy.version);
    case VersionStrategy::Kind::minimum:
      return "minimum " + std::to_string(strategy.version);
  }
  return "latest";
}

}  // namespace danube
