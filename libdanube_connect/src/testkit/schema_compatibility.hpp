#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace danube::testkit::internal {

// Schema types Danube accepts (lowercase, as on the wire).
bool is_valid_schema_type(std::string_view type);
// Compatibility modes: none, backward, forward, full.
bool is_valid_compatibility_mode(std::string_view mode);

// Why `definition` is not a valid schema of `type` (empty: valid). Only json_schema is parsed:
// it must be a JSON object nested at most kMaxJsonNestingDepth (json_nesting.hpp) deep; the
// reason then names the limit. Other types are stored as given.
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
