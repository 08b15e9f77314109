#pragma once

// Validation of webhook payloads against a topic's JSON Schema ([[schemas]] schema_type =
// "json_schema"), so that a sender learns at once (400 with the reason) that its event does not
// fit, instead of the record failing later in the pipeline.
//
// The SDK has no JSON Schema validator (its json_schema codec only checks that a payload is
// JSON) and Debian 12 packages none for C++, so this is a deliberate subset of draft-07, the
// keywords webhook schemas use: type, enum, const, properties, required, additionalProperties
// (boolean or schema), items (one schema), minItems, maxItems, minLength, maxLength, pattern
// (ECMAScript), minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers), multipleOf,
// allOf, anyOf, oneOf, not, and local "$ref": "#/definitions/..." or "#/$defs/...". Other
// keywords (format, dependencies, if/then/else, remote $ref, ...) are ignored: a payload is
// never rejected for a rule this validator does not know.
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace danube::webhook {

class JsonSchema {
 public:
  // Throws std::invalid_argument when `schema` is not an object or boolean, or a pattern does
  // not compile.
  explicit JsonSchema(nlohmann::json schema);

  // nullopt when `value` is valid; otherwise the first violation, e.g.
  // "/amount: expected integer, got string".
  std::optional<std::string> validate(const nlohmann::json& value) const;

 private:
  std::optional<std::string> check(const nlohmann::json& schema, const nlohmann::json& value,
                                   const std::string& where, int depth) const;
  const nlohmann::json* resolve(const std::string& reference) const;
  const std::regex& pattern(const std::string& text) const;

  nlohmann::json root_;
  // Compiled once: every "pattern" of the schema, by its text.
  std::vector<std::pair<std::string, std::regex>> patterns_;
};

}  // namespace danube::webhook
