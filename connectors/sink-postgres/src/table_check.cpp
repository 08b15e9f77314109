#include "table_check.hpp"

#include <algorithm>
#include <map>
#include <pqxx/result>
#include <pqxx/transaction>
#include <set>

#include "sql_builder.hpp"

namespace danube::sink_postgres {

namespace {

std::optional<std::string> table_oid(pqxx::work& tx, const Route& route) {
  const auto rows = tx.exec_params(
      "SELECT c.oid::text FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
      "ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2 "
      "AND c.relkind IN ('r', 'p')",
      route.schema, route.table);
  if (rows.empty()) return std::nullopt;
  return rows[0][0].as<std::string>();
}

// Where the configuration names `column`, so the error points at the line to fix.
[[noreturn]] void fail_missing_column(const Route& route, const std::string& column) {
  const std::string problem = "table " + route.display_table() + " has no column \"" + column +
                              "\" (add it, or set create_table = true on a new table)";
  for (const auto& field : route.fields) {
    if (field.column == column) field.section.fail("column", problem);
  }
  if (route.payload_column == column) route.section.fail("payload_column", problem);
  route.section.fail("metadata", problem);
}

// The unique, non-partial, expression-free indexes of the table, as sets of column names.
std::vector<std::set<std::string>> unique_indexes(pqxx::work& tx, const std::string& oid) {
  const auto rows = tx.exec_params(
      "SELECT i.indexrelid::text, a.attname FROM pg_catalog.pg_index i "
      "JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
      "WHERE i.indrelid = $1::oid AND i.indisunique AND i.indpred IS NULL "
      "AND i.indexprs IS NULL",
      oid);
  std::map<std::string, std::set<std::string>> by_index;
  for (const auto& row : rows)
    by_index[row[0].as<std::string>()].insert(row[1].as<std::string>());
  std::vector<std::set<std::string>> indexes;
  for (auto& [index, names] : by_index)
    indexes.push_back(std::move(names));
  return indexes;
}

}  // namespace

std::vector<std::string> prepare_table(pqxx::connection& connection, const Route& route,
                                       const std::vector<TargetColumn>& columns,
                                       connect::Logger& logger) {
  pqxx::work tx(connection, "prepare_table");
  auto oid = table_oid(tx, route);
  if (!oid) {
    if (!route.create_table) {
      route.section.fail("to", "table " + route.display_table() +
                                   " does not exist (create it, or set create_table = true)");
    }
    tx.exec0(create_table_sql(route, columns));
    oid = table_oid(tx, route);
    logger.info("postgres_table_created",
                {{"table", route.display_table()}, {"columns", columns.size()}});
  }

  const auto rows = tx.exec_params(
      "SELECT attname, pg_catalog.format_type(atttypid, atttypmod) FROM pg_catalog.pg_attribute "
      "WHERE attrelid = $1::oid AND attnum > 0 AND NOT attisdropped",
      *oid);
  std::map<std::string, std::string> types;
  for (const auto& row : rows)
    types[row[0].as<std::string>()] = row[1].as<std::string>();
  std::vector<std::string> sql_types;
  for (const auto& column : columns) {
    const auto found = types.find(column.name);
    if (found == types.end()) fail_missing_column(route, column.name);
    sql_types.push_back(found->second);
  }

  const auto key = route.conflict_key();
  const std::set<std::string> wanted(key.begin(), key.end());
  const auto indexes = unique_indexes(tx, *oid);
  if (std::find(indexes.begin(), indexes.end(), wanted) == indexes.end()) {
    std::string list;
    for (const auto& name : key)
      list += (list.empty() ? "" : ", ") + quote_identifier(name);
    const std::string problem =
        "table " + route.display_table() + " has no unique index on (" + list + ")" +
        (route.mode == WriteMode::insert
             ? ", which insert mode needs so that a redelivered message is not written twice"
             : ", which upsert mode needs for ON CONFLICT") +
        "; create it: CREATE UNIQUE INDEX ON " + qualified_table(route) + " (" + list + ")";
    route.section.fail(route.mode == WriteMode::upsert ? "upsert_key" : "to", problem);
  }
  tx.commit();
  return sql_types;
}

}  // namespace danube::sink_postgres
