#include "schema_compatibility.hpp"

#include <array>
#include <nlohmann/json.hpp>

#include "danube/common/json_nesting.hpp"

namespace danube::testkit::internal {
namespace {

using nlohmann::json;

constexpr std::array<std::string_view, 4> kModes = {"none", "backward", "forward", "full"};

// Null for text that is not JSON, or that nests deeper than kMaxJsonNestingDepth: copying or
// comparing such a document would overflow the stack, so it is never built.
json parse_or_null(std::string_view text) {
  if (json_nesting_exceeds_limit(text)) return json();
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) return json();
  return parsed;
}

// Whether `text` is well-formed UTF-8: no stray continuation bytes, overlong forms, surrogates
// or code points past U+10FFFF (what Rust's str::from_utf8, which Danube checks with, accepts).
bool is_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    if (lead < 0x80) {
      ++i;
      continue;
    }
    std::size_t length = 0;
    unsigned char second_min = 0x80;
    unsigned char second_max = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3;
      if (lead == 0xE0) second_min = 0xA0;  // overlong below U+0800
      if (lead == 0xED) second_max = 0x9F;  // surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4;
      if (lead == 0xF0) second_min = 0x90;  // overlong below U+10000
      if (lead == 0xF4) second_max = 0x8F;  // past U+10FFFF
    } else {
      return false;
    }
    if (text.size() - i < length) return false;
    const auto second = static_cast<unsigned char>(text[i + 1]);
    if (second < second_min || second > second_max) return false;
    for (std::size_t k = 2; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if (next < 0x80 || next > 0xBF) return false;
    }
    i += length;
  }
  return true;
}

const json& properties_of(const json& schema) {
  static const json kEmpty = json::object();
  const auto it = schema.find("properties");
  return it != schema.end() && it->is_object() ? *it : kEmpty;
}

std::vector<std::string> required_of(const json& schema) {
  std::vector<std::string> names;
  const auto it = schema.find("required");
  if (it == schema.end() || !it->is_array()) return names;
  for (const auto& name : *it) {
    if (name.is_string()) names.push_back(name.get<std::string>());
  }
  return names;
}

// Fields `reader` requires that `written` does not even define: data written with `written`
// cannot satisfy `reader`.
void missing_required(const json& reader, const json& written, std::string_view reader_name,
                      std::string_view written_name, std::vector<std::string>& problems) {
  const json& written_properties = properties_of(written);
  for (const auto& field : required_of(reader)) {
    if (!written_properties.contains(field)) {
      problems.push_back("field '" + field + "' is required by the " + std::string(reader_name) +
                         " schema but absent from the " + std::string(written_name) + " schema");
    }
  }
}

void changed_types(const json& old_schema, const json& new_schema,
                   std::vector<std::string>& problems) {
  const json& new_properties = properties_of(new_schema);
  for (const auto& [field, old_property] : properties_of(old_schema).items()) {
    const auto it = new_properties.find(field);
    if (it == new_properties.end() || !old_property.is_object() || !it->is_object()) continue;
    const auto old_type = old_property.find("type");
    const auto new_type = it->find("type");
    if (old_type != old_property.end() && new_type != it->end() && *old_type != *new_type) {
      problems.push_back("field '" + field + "' changed type from " + old_type->dump() + " to " +
                         new_type->dump());
    }
  }
}

}  // namespace

bool is_valid_compatibility_mode(std::string_view mode) {
  for (const auto valid : kModes) {
    if (mode == valid) return true;
  }
  return false;
}

std::string invalid_definition_reason(std::string_view type, std::string_view definition) {
  if (type == "bytes" || type == "string" || type == "number") return {};
  if (!is_utf8(definition)) return "the definition is not valid UTF-8";
  if (type != "json_schema") return {};
  if (json_nesting_exceeds_limit(definition)) return json_nesting_error();
  const json parsed = parse_or_null(definition);
  if (!parsed.is_object()) return "a json_schema definition must be a JSON object";
  return {};
}

std::vector<std::string> compatibility_problems(std::string_view mode, std::string_view old_type,
                                                std::string_view old_definition,
                                                std::string_view new_type,
                                                std::string_view new_definition) {
  std::vector<std::string> problems;
  if (mode == "none") return problems;
  if (old_type != new_type) {
    problems.push_back("schema type changed from " + std::string(old_type) + " to " +
                       std::string(new_type));
    return problems;
  }
  if (new_type != "json_schema") return problems;
  const json old_schema = parse_or_null(old_definition);
  const json new_schema = parse_or_null(new_definition);
  if (!old_schema.is_object() || !new_schema.is_object()) {
    problems.push_back("a json_schema definition is not a JSON object");
    return problems;
  }
  if (mode == "backward" || mode == "full") {
    missing_required(new_schema, old_schema, "new", "old", problems);
  }
  if (mode == "forward" || mode == "full") {
    missing_required(old_schema, new_schema, "old", "new", problems);
  }
  changed_types(old_schema, new_schema, problems);
  return problems;
}

}  // namespace danube::testkit::internal
