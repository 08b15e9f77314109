#include "route_writer.hpp"

#include <algorithm>
#include <map>
#include <pqxx/except>
#include <pqxx/subtransaction>

#include "copy_stream.hpp"
#include "sql_builder.hpp"

namespace danube::sink_postgres {

namespace {

// Rows per INSERT statement: below the size where one huge statement costs more to parse than
// it saves.
constexpr std::size_t kMaxRowsPerInsert = 1000;

// The database's message without the "ERROR:  " prefix and the trailing newline; DETAIL lines
// (which may quote values) are kept, as they say which value broke which constraint.
std::string database_reason(const pqxx::sql_error& error) {
  std::string text = error.what();
  if (text.rfind("ERROR:", 0) == 0) {
    text.erase(0, 6);
    text.erase(0, text.find_first_not_of(' '));
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
    text.pop_back();
  return text;
}

std::string key_text(const Row& row, const std::vector<std::size_t>& positions) {
  std::string key;
  for (const auto position : positions) {
    // Length-prefixed, so that ("a,b", "c") and ("a", "b,c") stay different keys.
    const auto& value = *row[position];
    key += std::to_string(value.size()) + ":" + value;
  }
  return key;
}

}  // namespace

bool is_row_error(const std::string& sqlstate) {
  return sqlstate.rfind("22", 0) == 0 || sqlstate.rfind("23", 0) == 0;
}

RouteWriter::RouteWriter(const Route& route, const RowMapper& mapper,
                         std::vector<std::string> sql_types, InsertMethod method,
                         std::size_t route_number)
    : route_(&route),
      mapper_(&mapper),
      sql_types_(std::move(sql_types)),
      method_(method),
      table_(qualified_table(route)),
      columns_(column_list(mapper.columns())),
      staging_("danube_staging_" + std::to_string(route_number)) {
  insert_from_staging_ = insert_from_staging_sql(staging_, route, mapper.columns());
  clear_staging_ = "DELETE FROM " + quote_identifier(staging_);
}

void RouteWriter::prepare_session(pqxx::connection& connection) {
  if (method_ != InsertMethod::copy) return;
  pqxx::work tx(connection, "prepare_staging");
  tx.exec0(create_staging_sql(staging_, *route_, mapper_->columns()));
  tx.commit();
}

void RouteWriter::map_records(std::span<const connect::SinkRecord> records,
                              std::span<const std::size_t> indices, std::vector<PendingRow>& rows,
                              RouteOutcome& outcome) const {
  for (const auto index : indices) {
    try {
      rows.push_back({index, mapper_->map(records[index])});
    } catch (const connect::ConnectorError& error) {
      outcome.unmappable.emplace_back(index, error);
    }
  }
}

RouteOutcome RouteWriter::write_records(pqxx::work& tx,
                                        std::span<const connect::SinkRecord> records,
                                        std::span<const std::size_t> indices) {
  RouteOutcome outcome;
  std::vector<PendingRow> rows;
  rows.reserve(indices.size());
  if (method_ == InsertMethod::copy && route_->mode == WriteMode::insert) {
    if (stream_direct_copy(tx, records, indices, rows, outcome)) {
      outcome.written = rows.size();
      return outcome;
    }
    ++copy_fallbacks_;
    std::vector<const PendingRow*> pointers;
    pointers.reserve(rows.size());
    for (const auto& row : rows)
      pointers.push_back(&row);
    bisect(tx, pointers, outcome.rejected);
  } else {
    map_records(records, indices, rows, outcome);
    write(tx, rows, outcome.rejected);
  }
  outcome.written = rows.size() - outcome.rejected.size();
  return outcome;
}

bool RouteWriter::stream_direct_copy(pqxx::work& tx, std::span<const connect::SinkRecord> records,
                                     std::span<const std::size_t> indices,
                                     std::vector<PendingRow>& rows, RouteOutcome& outcome) {
  // COPY straight into the table. It fails as a whole when any row is already there (a
  // redelivery) or breaks a constraint; then the caller sends the rows through the staging
  // table, whose INSERT ... ON CONFLICT skips what is already written, bisecting for bad rows.
  std::size_t consumed = 0;  // indices mapped, or found unmappable
  try {
    pqxx::subtransaction attempt(tx, "danube_direct_copy");
    CopyWriter writer(attempt, table_, columns_);
    while (consumed < indices.size()) {
      const auto index = indices[consumed++];
      try {
        rows.push_back({index, mapper_->map(records[index])});
      } catch (const connect::ConnectorError& error) {
        outcome.unmappable.emplace_back(index, error);
        continue;
      }
      writer.write(rows.back().row);
    }
    writer.complete();
    attempt.commit();
    return true;
  } catch (const pqxx::sql_error& error) {
    if (!is_row_error(error.sqlstate())) throw;
  }
  // The server may refuse the COPY before every record was mapped.
  map_records(records, indices.subspan(consumed), rows, outcome);
  return false;
}

void RouteWriter::write(pqxx::work& tx, std::span<const PendingRow> rows,
                        std::vector<RejectedRow>& rejected) {
  if (rows.empty()) return;
  // ON CONFLICT DO UPDATE may not touch one row twice in a statement: rows repeating an upsert
  // key go to later generations, written after the earlier ones, so the last write wins as it
  // would have one message at a time.
  std::vector<std::vector<const PendingRow*>> generations(1);
  if (route_->mode == WriteMode::upsert) {
    std::map<std::string, std::size_t> seen;
    for (const auto& row : rows) {
      const auto generation = seen[key_text(row.row, mapper_->key_positions())]++;
      if (generation >= generations.size()) generations.resize(generation + 1);
      generations[generation].push_back(&row);
    }
  } else {
    for (const auto& row : rows)
      generations[0].push_back(&row);
  }
  for (const auto& generation : generations)
    bisect(tx, generation, rejected);
}

void RouteWriter::bisect(pqxx::work& tx, std::span<const PendingRow* const> rows,
                         std::vector<RejectedRow>& rejected) {
  if (rows.empty()) return;
  try {
    pqxx::subtransaction attempt(tx, "danube_rows");
    if (method_ == InsertMethod::copy) {
      write_staged(attempt, rows);
    } else {
      write_inserts(attempt, rows);
    }
    attempt.commit();
    return;
  } catch (const pqxx::sql_error& error) {
    if (!is_row_error(error.sqlstate())) throw;
    if (rows.size() == 1) {
      rejected.push_back({rows[0]->index, error.sqlstate(), database_reason(error)});
      return;
    }
  }
  ++bisection_steps_;
  const auto half = rows.size() / 2;
  bisect(tx, rows.first(half), rejected);
  bisect(tx, rows.subspan(half), rejected);
}

void RouteWriter::write_staged(pqxx::transaction_base& tx,
                               std::span<const PendingRow* const> rows) {
  std::vector<const Row*> lines;
  lines.reserve(rows.size());
  for (const auto* row : rows)
    lines.push_back(&row->row);
  copy_rows(tx, quote_identifier(staging_), columns_, lines);
  tx.exec0(insert_from_staging_);
  tx.exec0(clear_staging_);
}

void RouteWriter::write_inserts(pqxx::transaction_base& tx,
                                std::span<const PendingRow* const> rows) {
  // Values travel as quoted literals (PQescapeStringConn) rather than parameters: libpqxx 6.4
  // runs parameterised statements past its transaction bookkeeping, and after a failed one
  // the savepoint's rollback left the transaction aborted (SQLSTATE 25P02) in our tests.
  const auto& columns = mapper_->columns();
  const std::string prefix = insert_values_prefix(*route_, columns);
  const std::string suffix = conflict_clause(*route_, columns);
  for (std::size_t start = 0; start < rows.size(); start += kMaxRowsPerInsert) {
    const std::size_t end = std::min(rows.size(), start + kMaxRowsPerInsert);
    std::string sql = prefix;
    for (std::size_t i = start; i < end; ++i) {
      sql += i == start ? "(" : ", (";
      const auto& row = rows[i]->row;
      for (std::size_t c = 0; c < row.size(); ++c) {
        if (c > 0) sql += ", ";
        sql += row[c] ? tx.quote(*row[c]) : std::string("NULL");
        sql += "::" + sql_types_[c];
      }
      sql += ")";
    }
    tx.exec0(sql + suffix);
  }
}

}  // namespace danube::sink_postgres
