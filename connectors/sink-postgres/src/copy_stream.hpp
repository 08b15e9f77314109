#pragma once

// COPY ... FROM STDIN in PostgreSQL's text format, fed row by row. libpqxx 6.4's stream_to
// takes only rows whose column count is known at compile time (std::tuple); a route's column
// count comes from the configuration, so rows are encoded here and sent as raw lines.
#include <memory>
#include <pqxx/transaction_base>
#include <string>
#include <string_view>
#include <vector>

#include "row_mapper.hpp"

namespace danube::sink_postgres {

// Appends `row` as one line of COPY text format: tab-separated, \N for NULL, backslash escapes
// for backslash, tab, newline and carriage return (safe in UTF-8, which the connection uses:
// those bytes never occur inside a multi-byte character).
void append_copy_line(const Row& row, std::string& line);

// One COPY `table` (`columns`) FROM STDIN in `tx`, open from construction to complete(). Rows
// written reach the server as libpq's buffer fills, so the server parses and inserts them while
// the caller prepares the next ones. A COPY abandoned without complete() is cancelled.
class CopyWriter {
 public:
  CopyWriter(pqxx::transaction_base& tx, const std::string& table, const std::string& columns);
  ~CopyWriter();
  CopyWriter(const CopyWriter&) = delete;
  CopyWriter& operator=(const CopyWriter&) = delete;

  void write(const Row& row);
  // Ends the COPY; throws the pqxx error the server reports for it.
  void complete();

 private:
  struct Stream;
  std::unique_ptr<Stream> stream_;
  std::string line_;
};

// Runs COPY `table` (`columns`) FROM STDIN in `tx` for `rows`. Throws pqxx errors as COPY
// reports them (a data error names the line).
void copy_rows(pqxx::transaction_base& tx, const std::string& table, const std::string& columns,
               const std::vector<const Row*>& rows);

}  // namespace danube::sink_postgres
