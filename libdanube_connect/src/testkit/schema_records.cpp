#include "schema_records.hpp"

#include <nlohmann/json.hpp>

#include "danube/common/schema.hpp"
#include "jwt.hpp"
#include "serde_json_text.hpp"

namespace danube::testkit::internal {
namespace {

bool has_no_definition(std::string_view type) {
  const auto parsed = parse_schema_type(type);
  return parsed && !schema_type_needs_definition(*parsed);
}

}  // namespace

std::optional<std::string> normalize_schema_type(std::string_view type) {
  const auto parsed = parse_schema_type(type);
  if (!parsed) return std::nullopt;
  return std::string(to_string(*parsed));
}

std::string schema_fingerprint(std::string_view type, std::string_view definition) {
  if (has_no_definition(type)) return std::string(type);
  if (type == "json_schema" || type == "avro") {
    if (const auto rewritten = serde_json_text(definition)) {
      return "sha256:" + sha256_hex(*rewritten);
    }
  }
  return "sha256:" + sha256_hex(definition);
}

std::string schema_definition_envelope(std::string_view type, std::string_view definition,
                                       std::string_view fingerprint) {
  // serde writes a struct's fields in declaration order, hence ordered_json.
  using Envelope = nlohmann::ordered_json;
  Envelope envelope;
  if (type == "bytes") {
    envelope = "Bytes";
  } else if (type == "string") {
    envelope = "String";
  } else if (type == "number") {
    envelope = "Number";
  } else if (type == "avro" || type == "json_schema") {
    Envelope fields = Envelope::object();
    fields["raw_schema"] = std::string(definition);
    fields["fingerprint"] = std::string(fingerprint);
    envelope[type == "avro" ? "Avro" : "JsonSchema"] = std::move(fields);
  } else if (type == "protobuf") {
    Envelope fields = Envelope::object();
    fields["raw_proto"] = std::string(definition);
    fields["message_name"] = "DefaultMessage";  // the only name Danube 0.15 records
    fields["fingerprint"] = std::string(fingerprint);
    envelope["Protobuf"] = std::move(fields);
  } else {
    return std::string(definition);
  }
  // Definitions are checked to be UTF-8 when registered; `replace` keeps one loaded from an
  // older registry file from throwing.
  return envelope.dump(-1, ' ', false, Envelope::error_handler_t::replace);
}

}  // namespace danube::testkit::internal
