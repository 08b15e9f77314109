#pragma once

// Turns a Danube record into one row of a route's table: payload fields by JSON pointer, the
// whole payload, and the message's metadata, each as the text PostgreSQL parses for its type.
#include <optional>
#include <string>
#include <vector>

#include "column_type.hpp"
#include "danube/connect/sink_record.hpp"
#include "postgres_settings.hpp"

namespace danube::sink_postgres {

// One value per column, in the order of RowMapper::columns(); nullopt is SQL NULL.
using Row = std::vector<std::optional<std::string>>;

struct TargetColumn {
  std::string name;
  ColumnType type = ColumnType::text;
  bool not_null = false;  // for CREATE TABLE
};

class RowMapper {
 public:
  explicit RowMapper(const Route& route);

  // Fields first (in configuration order), then the payload column, then metadata.
  const std::vector<TargetColumn>& columns() const { return columns_; }
  // Positions in columns() of the ON CONFLICT key.
  const std::vector<std::size_t>& key_positions() const { return key_positions_; }

  // Throws ConnectorError(invalid_data) with the reason when the record does not fit: the
  // payload is not JSON, a field has the wrong type, a required field or key is missing.
  Row map(const connect::SinkRecord& record) const;

 private:
  const Route* route_;
  std::vector<TargetColumn> columns_;
  std::vector<std::size_t> key_positions_;
  std::vector<nlohmann::json::json_pointer> pointers_;
  bool needs_json_ = false;
};

}  // namespace danube::sink_postgres
