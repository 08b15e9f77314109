#pragma once

// The [postgres] table of connector.toml and its [[postgres.routes]]: where to connect, and how
// each Danube topic becomes rows of one table.
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "column_type.hpp"
#include "connection_string.hpp"
#include "danube/connect/config.hpp"
#include "danube/connect/consumer_config.hpp"

namespace danube::sink_postgres {

// insert: every message is a new row, written once (a unique key on topic, partition and
// offset turns redeliveries into no-ops). upsert: the row with the same upsert_key is replaced.
enum class WriteMode { insert, upsert };

// How rows travel: COPY (pqxx::stream_to) or multi-row INSERT statements.
enum class InsertMethod { copy, insert };

// A column filled from a field of the JSON payload.
struct FieldColumn {
  std::string column;
  std::string json_pointer;  // "/customer/id"; "" is the whole value
  ColumnType type = ColumnType::text;
  bool nullable = true;            // false: a missing or null field makes the record invalid_data
  connect::ConfigSection section;  // for errors found later (a column the table lacks)
};

// Facts about the message rather than its payload.
enum class MetadataField {
  topic,
  partition,
  offset,
  publish_time,
  routing_key,
  attributes,
  producer
};

struct MetadataColumn {
  MetadataField field;
  std::string column;
};

std::string_view to_string(MetadataField field);
ColumnType column_type_of(MetadataField field);

struct Route {
  connect::ConsumerConfig consumer;  // from, subscription, ...
  std::string schema;                // the table's schema ([postgres] schema or "schema.table")
  std::string table;
  WriteMode mode = WriteMode::insert;
  std::vector<std::string> upsert_key;  // upsert: the columns of the unique key
  bool create_table = false;
  std::optional<std::string> payload_column;  // the whole payload as jsonb
  std::vector<FieldColumn> fields;
  std::vector<MetadataColumn> metadata;
  connect::ConfigSection section;

  // "public.orders", for messages.
  std::string display_table() const { return schema + "." + table; }
  // The column of a metadata field, when the route writes it.
  std::optional<std::string> metadata_column(MetadataField field) const;
  // The columns ON CONFLICT names: upsert_key, or the topic, partition and offset columns.
  std::vector<std::string> conflict_key() const;
};

struct PostgresSettings {
  ConnectionString connection{"", 10};
  std::optional<std::string> password;  // never logged
  InsertMethod insert_method = InsertMethod::copy;
  std::vector<Route> routes;
};

// Looks up an environment variable (injectable for tests).
using EnvironmentLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Reads and checks [postgres]. Throws ConfigError naming the key for anything invalid or
// unknown. What only the database can tell (missing tables and columns) is checked later.
PostgresSettings read_postgres_settings(const connect::ConnectorConfig& config,
                                        const EnvironmentLookup& environment);

}  // namespace danube::sink_postgres
