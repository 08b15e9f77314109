#pragma once
// Internal: the table of the SDK's configuration keys, shared by the TOML parser and the
// environment overrides, so both accept exactly the same keys with the same types.

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "danube/connect/config.hpp"

namespace danube::connect::config_fields {

enum class ValueKind { integer, floating, boolean, string };

using Scalar = std::variant<std::int64_t, double, bool, std::string>;

// Where a value came from, for error messages.
struct Where {
  std::string location;  // "file:line", a variable name, or empty
  std::string key;       // "[processing] batch_size"
};

struct Field {
  std::string_view section;  // empty for top-level keys
  std::string_view key;
  ValueKind kind;
  void (*assign)(ConnectorConfig& config, const Scalar& value, const Where& where);
};

const std::vector<Field>& all();
const Field* find(std::string_view section, std::string_view key);
// The sections whose keys are all in the table, plus "schemas".
bool is_sdk_section(std::string_view name);
// Keys the Rust SDK's own sample configurations contain although no version of it reads them
// (`[retry] initial_interval_ms`): accepted so those files load unchanged, and reported.
bool ignored_for_compatibility(std::string_view section, std::string_view key);
// The keys of one section, for "known keys" hints.
std::string known_keys(std::string_view section);

// "processing.batch_size", "connector_name".
std::string origin_key(std::string_view section, std::string_view key);

// Converts a TOML value or an environment variable's text; throws ConfigError naming `where`.
Scalar from_node(const Field& field, const toml::node& node, const Where& where);
Scalar from_text(const Field& field, std::string_view text, const Where& where);

// One `[[schemas]]` entry. `location_of(key)` gives the location of a key of the entry.
SchemaMapping parse_schema_entry(const toml::table& entry, std::size_t index,
                                 const std::string& source_name,
                                 std::map<std::string, std::string, std::less<>>& origins);

}  // namespace danube::connect::config_fields
