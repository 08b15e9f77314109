#include "copy_stream.hpp"

#include <pqxx/tablewriter>

namespace danube::sink_postgres {

void append_copy_line(const Row& row, std::string& line) {
  bool first = true;
  for (const auto& value : row) {
    if (!first) line += '\t';
    first = false;
    if (!value) {
      line += "\\N";
      continue;
    }
    for (const char c : *value) {
      switch (c) {
        case '\\':
          line += "\\\\";
          break;
        case '\t':
          line += "\\t";
          break;
        case '\n':
          line += "\\n";
          break;
        case '\r':
          line += "\\r";
          break;
        default:
          line += c;
      }
    }
  }
}

// tablewriter is deprecated in favour of stream_to, which cannot take rows of a run-time column
// count (see copy_stream.hpp); its raw-line interface is what this needs, with the encoding done
// above rather than by its multibyte-unsafe generator.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
struct CopyWriter::Stream {
  Stream(pqxx::transaction_base& tx, const std::string& table, const std::string& columns)
      : column_names{columns}, writer(tx, table, column_names.begin(), column_names.end()) {}
  std::vector<std::string> column_names;
  pqxx::tablewriter writer;
};
#pragma GCC diagnostic pop

CopyWriter::CopyWriter(pqxx::transaction_base& tx, const std::string& table,
                       const std::string& columns)
    : stream_(std::make_unique<Stream>(tx, table, columns)) {}

CopyWriter::~CopyWriter() = default;

void CopyWriter::write(const Row& row) {
  line_.clear();
  append_copy_line(row, line_);
  stream_->writer.write_raw_line(line_);
}

void CopyWriter::complete() {
  stream_->writer.complete();
}

void copy_rows(pqxx::transaction_base& tx, const std::string& table, const std::string& columns,
               const std::vector<const Row*>& rows) {
  CopyWriter writer(tx, table, columns);
  for (const Row* row : rows)
    writer.write(*row);
  writer.complete();
}

}  // namespace danube::sink_postgres
