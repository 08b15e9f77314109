#pragma once

// COPY ... FROM STDIN in PostgreSQL's text format, fed row by row. libpqxx 6.4's stream_to
// takes only rows whose column count is known at compile time (std::tuple); a route's column
// count comes from the configuration, so rows are encoded here and sent as raw lines.
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

// Runs COPY `table` (`columns`) FROM STDIN in `tx` for `rows`. Throws pqxx errors as COPY
// reports them (a data error names the line).
void copy_rows(pqxx::transaction_base& tx, const std::string& table, const std::string& columns,
               const std::vector<const Row*>& rows);

}  // namespace danube::sink_postgres
