#include "sql_builder.hpp"

#include <algorithm>

namespace danube::sink_postgres {

std::string quote_identifier(std::string_view name) {
  std::string quoted = "\"";
  for (const char c : name) {
    if (c == '"') quoted += '"';
    quoted += c;
  }
  return quoted + "\"";
}

std::string qualified_table(const Route& route) {
  return quote_identifier(route.schema) + "." + quote_identifier(route.table);
}

std::string column_list(const std::vector<TargetColumn>& columns) {
  std::string list;
  for (const auto& column : columns) {
    list += (list.empty() ? "" : ", ") + quote_identifier(column.name);
  }
  return list;
}

namespace {

std::string key_list(const Route& route) {
  std::string list;
  for (const auto& column : route.conflict_key()) {
    list += (list.empty() ? "" : ", ") + quote_identifier(column);
  }
  return list;
}

}  // namespace

std::string create_table_sql(const Route& route, const std::vector<TargetColumn>& columns) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + qualified_table(route) + " (\n";
  for (const auto& column : columns) {
    sql += "  " + quote_identifier(column.name) + " " + std::string(sql_name(column.type)) +
           (column.not_null ? " NOT NULL" : "") + ",\n";
  }
  sql += std::string("  ") + (route.mode == WriteMode::upsert ? "PRIMARY KEY" : "UNIQUE") + " (" +
         key_list(route) + ")\n)";
  return sql;
}

std::string conflict_clause(const Route& route, const std::vector<TargetColumn>& columns) {
  const auto key = route.conflict_key();
  std::string updates;
  if (route.mode == WriteMode::upsert) {
    for (const auto& column : columns) {
      if (std::find(key.begin(), key.end(), column.name) != key.end()) continue;
      const auto name = quote_identifier(column.name);
      updates += (updates.empty() ? "" : ", ") + name + " = EXCLUDED." + name;
    }
  }
  const std::string target = " ON CONFLICT (" + key_list(route) + ")";
  return updates.empty() ? target + " DO NOTHING" : target + " DO UPDATE SET " + updates;
}

std::string insert_values_prefix(const Route& route, const std::vector<TargetColumn>& columns) {
  return "INSERT INTO " + qualified_table(route) + " (" + column_list(columns) + ") VALUES ";
}

std::string create_staging_sql(std::string_view staging, const Route& route,
                               const std::vector<TargetColumn>& columns) {
  // ON COMMIT DELETE ROWS: whatever a batch staged is gone when its transaction ends.
  return "CREATE TEMPORARY TABLE IF NOT EXISTS " + quote_identifier(staging) +
         " ON COMMIT DELETE ROWS AS SELECT " + column_list(columns) + " FROM " +
         qualified_table(route) + " WITH NO DATA";
}

std::string insert_from_staging_sql(std::string_view staging, const Route& route,
                                    const std::vector<TargetColumn>& columns) {
  const auto list = column_list(columns);
  return "INSERT INTO " + qualified_table(route) + " (" + list + ") SELECT " + list + " FROM " +
         quote_identifier(staging) + conflict_clause(route, columns);
}

}  // namespace danube::sink_postgres
