#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace danube::testkit::internal {

// Compatibility modes: none, backward, forward, full.
bool is_valid_compatibility_mode(std::string_view mode);

// `type` below is a name normalize_schema_type (schema_records.hpp) returned.

// Why `definition` is not a valid schema of `type` (empty: valid). The definition of bytes,
// string and number is not looked at (Danube keeps none); the others must be UTF-8, as Danube
// requires. Only json_schema is parsed: it must be a JSON object nested at most
// kMaxJsonNestingDepth (json_nesting.hpp) deep; the reason then names the limit. Avro and
// protobuf definitions are stored as given.
std::string invalid_definition_reason(std::string_view type, std::string_view definition);

// The problems that make `new_definition` incompatible with `old_definition` under `mode`
// (empty: compatible). What is checked:
//   - mode "none": nothing, always compatible;
//   - a different schema type is incompatible;
//   - json_schema, on the top-level object only:
//       backward (new reads old data): every field the new schema requires exists in the old
//         schema's properties;
//       forward (old reads new data): every field the old schema requires exists in the new
//         schema's properties;
//       full: both;
//       and, in every mode but none, a field present in both with a different "type" keyword;
//   - other types (bytes, string, number, avro, protobuf): compatible iff the type matches.
std::vector<std::string> compatibility_problems(std::string_view mode, std::string_view old_type,
                                                std::string_view old_definition,
                                                std::string_view new_type,
                                                std::string_view new_definition);

}  // namespace danube::testkit::internal
