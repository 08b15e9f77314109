#pragma once

// The PostgreSQL types a payload field can be written as, and how a JSON value becomes the text
// PostgreSQL reads for each (COPY text format and INSERT parameters share that text).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace danube::sink_postgres {

enum class ColumnType {
  text,
  smallint,
  integer,
  bigint,
  real,
  double_precision,
  numeric,
  boolean,
  timestamptz,
  timestamp,
  date,
  uuid,
  json,
  jsonb,
};

// "text", "integer", "double precision", ...: the SQL name, used in CREATE TABLE and casts.
std::string_view sql_name(ColumnType type);
// Accepts the SQL names and the usual aliases ("int", "int8", "double", "float8", "bool").
std::optional<ColumnType> parse_column_type(std::string_view text);
// The accepted spellings, for error messages.
std::string column_type_names();

// The text PostgreSQL parses for `value` as `type`, or nullopt for JSON null. Throws
// ConnectorError(invalid_data) naming `what` (the field and column) when the value does not fit:
// a string where a number is expected, an integer out of range, a NUL character in text.
std::optional<std::string> to_sql_text(const nlohmann::json& value, ColumnType type,
                                       std::string_view what);

// Microseconds since the Unix epoch as an ISO 8601 UTC timestamp ("2026-12-03 04:05:06.123456+00").
std::string format_timestamp_us(std::int64_t micros_since_epoch);

}  // namespace danube::sink_postgres
