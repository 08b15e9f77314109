#pragma once

// The SQL text the sink sends, built in one place: identifiers are always quoted (names are
// used exactly as configured); values travel as COPY data, or as literals quoted by libpq
// (PQescapeStringConn) in multi-row INSERTs.
#include <string>
#include <string_view>
#include <vector>

#include "postgres_settings.hpp"
#include "row_mapper.hpp"

namespace danube::sink_postgres {

// "name" with embedded quotes doubled.
std::string quote_identifier(std::string_view name);
// "schema"."table".
std::string qualified_table(const Route& route);
// "a", "b", "c".
std::string column_list(const std::vector<TargetColumn>& columns);

// CREATE TABLE IF NOT EXISTS with the route's columns and its ON CONFLICT key as a unique
// constraint (upsert) or unique index columns (insert).
std::string create_table_sql(const Route& route, const std::vector<TargetColumn>& columns);

// ON CONFLICT (key) DO NOTHING (insert mode) or DO UPDATE SET every other column (upsert).
std::string conflict_clause(const Route& route, const std::vector<TargetColumn>& columns);

// "INSERT INTO t (columns) VALUES ": the rows follow, each value cast to its column's type as
// the catalog names it (multi-row VALUES would otherwise resolve untyped literals as text).
std::string insert_values_prefix(const Route& route, const std::vector<TargetColumn>& columns);

// A session-local table with the target's column types and no constraints, that COPY fills
// before one INSERT ... SELECT moves the rows on (COPY itself cannot say ON CONFLICT).
std::string create_staging_sql(std::string_view staging, const Route& route,
                               const std::vector<TargetColumn>& columns);
std::string insert_from_staging_sql(std::string_view staging, const Route& route,
                                    const std::vector<TargetColumn>& columns);

}  // namespace danube::sink_postgres
