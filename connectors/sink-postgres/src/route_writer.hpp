#pragma once

// Writes the rows of one route inside the batch's transaction, and finds the rows PostgreSQL
// refuses (a constraint, a value its type rejects) by bisection under savepoints: the good rows
// of the batch stay written, each bad one is reported with the database's reason.
#include <cstddef>
#include <pqxx/connection>
#include <pqxx/transaction>
#include <span>
#include <string>
#include <vector>

#include "danube/connect/error.hpp"
#include "postgres_settings.hpp"
#include "row_mapper.hpp"

namespace danube::sink_postgres {

// A mapped record waiting to be written: its index in the batch and its row.
struct PendingRow {
  std::size_t index = 0;
  Row row;
};

// A row PostgreSQL refused.
struct RejectedRow {
  std::size_t index = 0;
  std::string sqlstate;
  std::string reason;  // the database's message, as the dead-letter reason
};

// What one route's share of a batch came to, once its transaction commits.
struct RouteOutcome {
  std::size_t written = 0;
  std::vector<RejectedRow> rejected;                                        // refused by PostgreSQL
  std::vector<std::pair<std::size_t, connect::ConnectorError>> unmappable;  // refused by the mapper
};

// True for the SQLSTATE classes that belong to a row's values (22 data exception, 23 integrity
// constraint violation): those are bisected; anything else concerns the whole batch.
bool is_row_error(const std::string& sqlstate);

class RouteWriter {
 public:
  // `sql_types`: the catalog type of each mapper column (prepare_table's result).
  RouteWriter(const Route& route, const RowMapper& mapper, std::vector<std::string> sql_types,
              InsertMethod method, std::size_t route_number);

  // Per connection: creates the session's staging table (COPY method).
  void prepare_session(pqxx::connection& connection);

  // Maps the records at `indices` and writes them in `tx`. On the direct COPY path each record
  // is mapped just before its row is sent, so the server works through the rows while the
  // next ones are mapped.
  RouteOutcome write_records(pqxx::work& tx, std::span<const connect::SinkRecord> records,
                             std::span<const std::size_t> indices);

  // Writes `rows` in `tx` (rows that share an upsert key are written in successive
  // statements, so each takes effect in order). Rows the database refuses are appended to
  // `rejected`; other failures propagate as pqxx exceptions.
  void write(pqxx::work& tx, std::span<const PendingRow> rows, std::vector<RejectedRow>& rejected);

  // Batch halvings done, and direct COPYs that fell back to the staging table, for metrics.
  std::uint64_t bisection_steps() const { return bisection_steps_; }
  std::uint64_t copy_fallbacks() const { return copy_fallbacks_; }

 private:
  // Maps the records at `indices` into `rows`, or into `outcome.unmappable`.
  void map_records(std::span<const connect::SinkRecord> records,
                   std::span<const std::size_t> indices, std::vector<PendingRow>& rows,
                   RouteOutcome& outcome) const;
  // Direct COPY of the records into the table as they are mapped; false (with every record
  // mapped into `rows`) when the server refused a row, so the rows go through bisect().
  bool stream_direct_copy(pqxx::work& tx, std::span<const connect::SinkRecord> records,
                          std::span<const std::size_t> indices, std::vector<PendingRow>& rows,
                          RouteOutcome& outcome);
  void bisect(pqxx::work& tx, std::span<const PendingRow* const> rows,
              std::vector<RejectedRow>& rejected);
  // The plain write, no savepoint.
  void write_staged(pqxx::transaction_base& tx, std::span<const PendingRow* const> rows);
  void write_inserts(pqxx::transaction_base& tx, std::span<const PendingRow* const> rows);

  const Route* route_;
  const RowMapper* mapper_;
  std::vector<std::string> sql_types_;
  InsertMethod method_;
  std::string table_;
  std::string columns_;
  std::string staging_;
  std::string insert_from_staging_;
  std::string clear_staging_;
  std::uint64_t bisection_steps_ = 0;
  std::uint64_t copy_fallbacks_ = 0;
};

}  // namespace danube::sink_postgres
