#include "schema_definition_envelope.hpp"

#include <nlohmann/json.hpp>
#include <optional>

#include "danube/common/json_nesting.hpp"
#include "danube/common/schema.hpp"

namespace danube::client::detail {
namespace {

using nlohmann::json;

// Where a schema type's definition sits in the envelope: the serde variant name and, for the
// variants with data, the key of the definition inside it.
struct EnvelopeShape {
  std::string_view variant;
  std::string_view definition_key;  // empty for unit variants
};

std::optional<EnvelopeShape> envelope_shape(std::string_view schema_type) {
  const auto type = parse_schema_type(schema_type);
  if (!type) return std::nullopt;
  switch (*type) {
    case SchemaType::bytes:
      return EnvelopeShape{"Bytes", {}};
    case SchemaType::string:
      return EnvelopeShape{"String", {}};
    case SchemaType::number:
      return EnvelopeShape{"Number", {}};
    case SchemaType::avro:
      return EnvelopeShape{"Avro", "raw_schema"};
    case SchemaType::json_schema:
      return EnvelopeShape{"JsonSchema", "raw_schema"};
    case SchemaType::protobuf:
      return EnvelopeShape{"Protobuf", "raw_proto"};
  }
  return std::nullopt;
}

const std::string* string_member(const json& object, std::string_view key) {
  const auto it = object.find(std::string(key));
  if (it == object.end() || !it->is_string()) return nullptr;
  return &it->get_ref<const std::string&>();
}

// Raw definitions of most types do not start like a JSON object or string (.proto text, bytes),
// so most of them are told apart without parsing.
bool could_be_envelope(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && (text[first] == '{' || text[first] == '"');
}

json parse_or_discarded(std::string_view text) {
  // A deep document would make the parsed value's copies and comparisons recurse that deep.
  if (json_nesting_exceeds_limit(text)) return json(json::value_t::discarded);
  try {
    return json::parse(text, nullptr, /*allow_exceptions=*/false);
  } catch (const json::exception&) {
    // allow_exceptions=false reports syntax errors as discarded; this guards whatever else the
    // parser might throw on input from the network.
    return json(json::value_t::discarded);
  }
}

}  // namespace

std::string unwrap_schema_definition(std::string_view schema_type, std::string definition) {
  const auto shape = envelope_shape(schema_type);
  if (!shape || !could_be_envelope(definition)) return definition;
  const json parsed = parse_or_discarded(definition);
  if (shape->definition_key.empty()) {
    const bool is_unit_variant =
        parsed.is_string() && parsed.get_ref<const std::string&>() == shape->variant;
    return is_unit_variant ? std::string() : definition;
  }
  if (!parsed.is_object() || parsed.size() != 1) return definition;
  const auto variant = parsed.find(std::string(shape->variant));
  if (variant == parsed.end() || !variant->is_object()) return definition;
  const std::string* raw = string_member(*variant, shape->definition_key);
  // The fingerprint is part of every envelope Danube writes; requiring it keeps a raw definition
  // that merely looks similar from being taken apart.
  if (raw == nullptr || string_member(*variant, "fingerprint") == nullptr) return definition;
  return *raw;
}

}  // namespace danube::client::detail
